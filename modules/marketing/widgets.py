"""Marketing dashboard widgets: campaigns this month and new leads.

Both need ``marketing.view`` and a seat in the marketing module (``core.ui`` hides them
otherwise; the render functions check again so no empty frame is drawn).
"""

from datetime import timedelta

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from core.auth.permissions import has_permission
from core.auth.scope import scoped
from core.database import utcnow
from core.extensions import db
from core.i18n import jalali_month_of, jalali_month_utc_range
from core.ui import Widget, add_widget
from modules.marketing.models.campaigns import Campaign, Recipient
from modules.marketing.models.leads import Lead

NEW_LEAD_DAYS = 7


def _allowed() -> bool:
    return (current_user.is_authenticated and has_permission("marketing.view")
            and "marketing" in current_user.seat_modules)


def campaigns_this_month(now=None) -> dict:
    """Campaigns started this Jalali month, and their reach, opens and clicks."""
    now = now or utcnow()
    year, month = jalali_month_of(now)
    start, end = jalali_month_utc_range(year, month)
    ids = select(Campaign.id).where(Campaign.started_at >= start, Campaign.started_at < end)
    count = db.session.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
    reach, opens, clicks = db.session.execute(select(
        func.count(Recipient.sent_at), func.count(Recipient.opened_at),
        func.count(Recipient.clicked_at)).where(Recipient.campaign_id.in_(ids))).one()
    return {"count": count, "reach": reach, "opens": opens, "clicks": clicks,
            "month": (year, month)}


def new_leads(now=None) -> dict:
    """Leads of the last week in my record scope, and how many are still new."""
    since = (now or utcnow()) - timedelta(days=NEW_LEAD_DAYS)
    stmt = scoped(select(Lead).where(Lead.created_at >= since), Lead, "marketing")
    count = db.session.execute(stmt.with_only_columns(func.count())).scalar_one()
    untouched = db.session.execute(stmt.with_only_columns(func.count()).where(
        Lead.status == "new")).scalar_one()
    top = db.session.execute(stmt.order_by(Lead.score.desc(), Lead.id.desc()).limit(3)
                             ).scalars().all()
    return {"count": count, "untouched": untouched, "top": top, "days": NEW_LEAD_DAYS}


def render_campaigns() -> Markup:
    """Campaigns this month with reach, opens and clicks."""
    if not _allowed():
        return Markup("")
    return Markup(render_template("marketing/_widget_campaigns.html",
                                  fig=campaigns_this_month()))


def render_leads() -> Markup:
    """New leads of the week, the best scored first."""
    if not _allowed():
        return Markup("")
    return Markup(render_template("marketing/_widget_leads.html", fig=new_leads()))


def register(app) -> None:
    add_widget(app, Widget("marketing", _l("Campaigns this month"), render_campaigns,
                           permission="marketing.view", order=20))
    add_widget(app, Widget("marketing", _l("New leads"), render_leads,
                           permission="marketing.view", order=21))
