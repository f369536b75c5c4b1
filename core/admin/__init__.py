"""Administration: users, roles, teams, seats, settings, audit log; ``crm deploy`` and ``demo``."""

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from core import demo, deploy  # noqa: F401 - add `crm deploy` and `crm demo` to the group
    from core.admin import (  # noqa: F401 - the admin pages attach to the blueprint
        account_views,
        audit_views,
        role_views,
        settings_views,
        user_views,
        views,
    )
    from core.modules import MenuEntry
    from core.ui import add_core_menu

    _allow_intranet_email()
    app.register_blueprint(views.bp)
    app.register_blueprint(account_views.bp)
    add_core_menu(app, MenuEntry("admin.index", _l("Administration"), icon="gear",
                                 permission="admin.users"))
    add_core_menu(app, MenuEntry("account.security", _l("Security"), icon="shield-lock"))


def _allow_intranet_email() -> None:
    """Accept ``user@company.local`` addresses: self-hosted deployments often use intranet mail.

    email-validator refuses special-use domains unless they are taken off this documented list.
    """
    import email_validator

    if "local" in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove("local")
