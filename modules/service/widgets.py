"""Service dashboard widgets: my open tickets, SLA at risk, CSAT this month.

Each needs ``service.view`` and a seat in the service module (``core.ui.visible_widgets``
hides them otherwise; the render functions check again so no empty frame is drawn).
"""

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from core.auth.permissions import has_permission
from core.auth.scope import scoped
from core.database import utcnow
from core.extensions import db
from core.ui import Widget, add_widget
from modules.service.models.tickets import DONE, Ticket

AT_RISK_SHOWN = 5


def _allowed() -> bool:
    return (current_user.is_authenticated and has_permission("service.view")
            and "service" in current_user.seat_modules)


def _open():
    return select(Ticket).where(Ticket.status.not_in(DONE), Ticket.merged_into_id.is_(None))


def my_open_tickets(user, now=None) -> dict:
    """How many open tickets ``user`` owns, the oldest of them, and how many are overdue."""
    now = now or utcnow()
    mine = _open().where(Ticket.owner_id == user.id)
    count = db.session.execute(mine.with_only_columns(func.count())).scalar_one()
    oldest = db.session.execute(
        mine.order_by(Ticket.created_at, Ticket.id).limit(1)).scalar()
    overdue = db.session.execute(mine.with_only_columns(func.count()).where(
        (Ticket.sla_state == "breached") | (Ticket.resolution_due < now))).scalar_one()
    return {"count": count, "oldest": oldest, "overdue": overdue,
            "oldest_days": (now - _aware(oldest.created_at)).days if oldest else None}


def _aware(value):
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def sla_at_risk() -> dict:
    """Open tickets the user may see whose SLA is in warning or breached, soonest due first."""
    stmt = scoped(_open().where(Ticket.sla_state.in_(("warning", "breached"))), Ticket,
                  "service")
    counts = dict(db.session.execute(
        stmt.with_only_columns(Ticket.sla_state, func.count()).group_by(Ticket.sla_state)
    ).all())
    due = func.coalesce(Ticket.first_response_due, Ticket.resolution_due)
    tickets = db.session.execute(
        stmt.order_by((Ticket.sla_state == "breached").desc(), due.is_(None), due, Ticket.id)
        .limit(AT_RISK_SHOWN)).scalars().all()
    return {"warning": counts.get("warning", 0), "breached": counts.get("breached", 0),
            "tickets": tickets}


def render_my_tickets() -> Markup:
    """Count, oldest and overdue of the open tickets assigned to me."""
    if not _allowed():
        return Markup("")
    from modules.service.views.reports import ticket_url

    return Markup(render_template("service/_widget_my_tickets.html",
                                  mine=my_open_tickets(current_user), ticket_url=ticket_url))


def render_sla_at_risk() -> Markup:
    """Tickets in SLA warning or breach, in my record scope."""
    if not _allowed():
        return Markup("")
    from modules.service.views.reports import ticket_url

    return Markup(render_template("service/_widget_sla_at_risk.html", risk=sla_at_risk(),
                                  ticket_url=ticket_url))


def render_csat_month() -> Markup:
    """CSAT average and NPS of this Jalali month."""
    if not _allowed():
        return Markup("")
    from modules.service.reports import Filters, Period, satisfaction

    period = Period.current()
    return Markup(render_template("service/_widget_csat.html", period=period,
                                  fig=satisfaction(Filters(period))))


def register(app) -> None:
    add_widget(app, Widget("service", _l("My open tickets"), render_my_tickets,
                           permission="service.view", order=30))
    add_widget(app, Widget("service", _l("SLA at risk"), render_sla_at_risk,
                           permission="service.view", order=31))
    add_widget(app, Widget("service", _l("CSAT this month"), render_csat_month,
                           permission="service.view", order=32))
