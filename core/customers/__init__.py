"""Customers at the centre: people and organisations shared by every module."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from core.customers import api, export, keys, models, timeline, views  # noqa: F401
    from core.extensions import api as rest
    from core.modules import MenuEntry
    from core.ui import add_core_menu

    keys.listen()
    timeline.init_app(app)
    app.register_blueprint(views.bp)
    rest.register_blueprint(api.bp, app=app)
    add_core_menu(app, MenuEntry("customers.index", _l("Customers"), icon="people",
                                 permission="customers.view"))
