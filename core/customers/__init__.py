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
    from core.customers import (  # noqa: F401 - tables and routes
        api,
        export,
        keys,
        models,
        privacy,
        task_views,
        timeline,
        views,
    )
    from core.extensions import api as rest
    from core.modules import MenuEntry
    from core.ui import add_core_menu

    keys.listen()
    app.jinja_env.filters["mobile"] = local_mobile
    timeline.init_app(app)
    app.register_blueprint(views.bp)
    rest.register_blueprint(api.bp, app=app)
    add_core_menu(app, MenuEntry("customers.index", _l("Customers"), icon="people",
                                 permission="customers.view", main=True))
    add_core_menu(app, MenuEntry("customers.agenda", _l("My day"), icon="calendar-check",
                                 permission="customers.view", main=True))
