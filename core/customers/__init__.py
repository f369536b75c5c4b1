"""Customers at the centre: people and organisations shared by every module."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def local_mobile(value: str | None) -> str:
    """A canonical +989XXXXXXXXX mobile as people write it: "0912 345 6789" (locale digits)."""
    from core.i18n import localize_digits

    if not value:
        return ""
    if value.startswith("+989") and len(value) == 13:
        local = "0" + value[3:]
        value = f"{local[:4]} {local[4:7]} {local[7:]}"
    return localize_digits(value)


def init_app(app: Flask) -> None:
    from core import jobs
    from core.customers import (  # noqa: F401 - tables and routes
        anonymise,
        api,
        cli,
        export,
        field_views,
        import_views,
        keys,
        merge,
        merge_views,
        models,
        privacy,
        reminders,
        saved_view_views,
        saved_views,
        task_views,
        timeline,
        views,
    )
    from core.customers.demo import load_customers
    from core.demo import add_demo_step
    from core.extensions import api as rest
    from core.modules import MenuEntry
    from core.ui import Widget, add_core_menu, add_widget

    add_demo_step(app, "customers", load_customers, order=40)
    keys.listen()
    app.jinja_env.filters["mobile"] = local_mobile
    timeline.init_app(app)
    merge_views.init_app(app)
    app.register_blueprint(views.bp)
    rest.register_blueprint(api.bp, app=app)
    add_core_menu(app, MenuEntry("customers.index", _l("Customers"), icon="people",
                                 permission="customers.view", main=True))
    add_core_menu(app, MenuEntry("customers.agenda", _l("My day"), icon="calendar-check",
                                 permission="customers.view", main=True))
    add_core_menu(app, MenuEntry("customers.fields", _l("Customer fields"), icon="ui-checks",
                                 permission="admin.settings"))
    add_widget(app, Widget("core", _l("My day"), task_views.render_widget,
                           permission="customers.view", order=20))
    jobs.periodic("customers.reminders", reminders.EVERY_SECONDS, reminders.send_due_reminders)
