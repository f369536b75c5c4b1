"""Sales dashboard widgets: "My month" (target, achieved, open pipeline) and the leaderboard.

Both need ``sales.view`` and a seat in the sales module (without a seat the sales pages are
refused, so the cards say nothing either); the leaderboard lists the people the viewer may
see (``modules.sales.performance`` scope: an agent sees only their own line).
"""

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from core.auth.permissions import has_permission
from core.ui import Widget, add_widget


def _allowed() -> bool:
    return (current_user.is_authenticated and has_permission("sales.view")
            and "sales" in current_user.seat_modules)


def render_my_month() -> Markup:
    """My target, achieved and share of it this Jalali month, and my open pipeline value."""
    if not _allowed():
        return Markup("")
    from modules.sales.performance import Period, my_month

    period = Period.current()
    figures, open_value = my_month(current_user, period)
    return Markup(render_template("sales/_widget_my_month.html", figures=figures,
                                  open_value=open_value, period=period))


def render_leaderboard() -> Markup:
    """The top five of this Jalali month by achieved."""
    if not _allowed():
        return Markup("")
    from modules.sales.performance import Period, leaderboard

    period = Period.current()
    return Markup(render_template("sales/_widget_leaderboard.html",
                                  rows=leaderboard(period), period=period))


def register(app) -> None:
    add_widget(app, Widget("sales", _l("My month in sales"), render_my_month,
                           permission="sales.view", order=20))
    add_widget(app, Widget("sales", _l("Sales leaderboard"), render_leaderboard,
                           permission="sales.view", order=21))
