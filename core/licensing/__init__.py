"""Offline licensing: vendor → reseller certificate → customer license, trial, expiry, seats.

``current_state()`` is what the rest of the app asks: ``.kind``, ``.read_only``,
``.module_refusal(name)`` and ``.seats_for(name)``.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

from core.licensing.documents import LicenseError
from core.licensing.state import LicenseState, current_state, forget_state, now

__all__ = ["LicenseError", "LicenseState", "current_state", "forget_state", "now", "init_app"]


def init_app(app: Flask) -> None:
    """Tables, the read-only gate, banners, admin pages and the ``crm license`` commands."""
    from core.licensing import cli, gate, models, views  # noqa: F401 - models for create_all
    from core.modules import MenuEntry
    from core.ui import add_banner_provider, add_core_menu

    app.extensions.setdefault("crm_read_only_exempt", set(gate.EXEMPT))
    app.before_request(gate.gate)
    app.register_blueprint(views.bp)
    add_banner_provider(app, gate.banners)
    add_core_menu(app, MenuEntry("licensing.license", _l("License"), icon="key",
                                 permission="admin.license"))
    add_core_menu(app, MenuEntry("licensing.modules", _l("Modules"), icon="puzzle",
                                 permission="admin.modules"))
    cli.register()
