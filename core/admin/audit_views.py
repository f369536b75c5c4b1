"""Admin page for the audit log: filters, newest first, keyset pagination."""

from datetime import UTC, datetime, time, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.admin.forms import AuditFilterForm
from core.admin.views import bp
from core.audit import AuditLog
from core.auth.models import User
from core.auth.permissions import require_permission
from core.extensions import db
from core.pagination import request_page

PER_PAGE = 50
TEHRAN = "Asia/Tehran"


def jalali_to_utc(text: str, *, end: bool = False) -> datetime:
    """The UTC instant a Jalali day (1403/01/15, any digits) starts in Tehran; ``end``: the next."""
    from zoneinfo import ZoneInfo

    from core.i18n import parse_jalali_date

    day = parse_jalali_date(text) + timedelta(days=1 if end else 0)
    return datetime.combine(day, time(), ZoneInfo(TEHRAN)).astimezone(UTC)


def audit_query(*, user: str = "", action: str = "", target: str = "",
                start: datetime | None = None, end: datetime | None = None):
    """A ``select(AuditLog)`` with the audit page's filters, newest first."""
    stmt = select(AuditLog)
    if user == "none":
        stmt = stmt.where(AuditLog.user_id.is_(None))
    elif user.isdigit():
        stmt = stmt.where(AuditLog.user_id == int(user))
    if action:
        stmt = stmt.where(AuditLog.action.like(action.strip() + "%"))
    if target:
        stmt = stmt.where(func.lower(AuditLog.target).like(f"%{target.strip().lower()}%"))
    if start is not None:
        stmt = stmt.where(AuditLog.at >= start)
    if end is not None:
        stmt = stmt.where(AuditLog.at < end)
    return stmt.order_by(AuditLog.id.desc())


@bp.route("/audit")
@require_permission("admin.audit")
def audit():
    """The audit log: who did what, when and from where."""
    form = AuditFilterForm(request.args)
    users = list(db.session.execute(select(User).order_by(User.name)).scalars())
    form.user.choices = [("", _("Anyone")), ("none", _("No signed-in user"))] + [
        (str(u.id), f"{u.name} <{u.email}>") for u in users]
    bounds, errors = {}, False
    for name in ("start", "end"):
        value = getattr(form, name).data
        if value:
            try:
                bounds[name] = jalali_to_utc(value, end=name == "end")
            except (ValueError, TypeError):
                getattr(form, name).errors = [_("%(value)s is not a Jalali date such as "
                                                "1403/01/15", value=value)]
                errors = True
    stmt = audit_query(user=form.user.data or "", action=form.action.data or "",
                       target=form.target.data or "", **bounds)
    page = request_page(stmt, [AuditLog.id.desc()], size=PER_PAGE)
    names = {u.id: u for u in users}
    return render_template("admin/audit.html", form=form, page=page, names=names), \
        422 if errors else 200
