"""Accounting-link dashboard widget: sync health (pending, delivered today, dead, oldest)."""

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from core.auth.permissions import has_permission
from core.ui import Widget, add_widget


def _allowed() -> bool:
    return (current_user.is_authenticated and has_permission("accounting_link.view")
            and "accounting_link" in current_user.seat_modules)


def render_sync_health() -> Markup:
    """How the delivery of journal entries to the accounting systems is going."""
    if not _allowed():
        return Markup("")
    from modules.accounting_link.delivery import health

    figures = health()
    minutes = int(figures["oldest_age"].total_seconds() // 60)
    return Markup(render_template("accounting_link/deliveries_widget.html", health=figures,
                                  oldest_minutes=minutes))


def register(app) -> None:
    add_widget(app, Widget("accounting_link", _l("Accounting sync health"), render_sync_health,
                           permission="accounting_link.view", order=40))
