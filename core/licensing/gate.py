"""Per-request license gate: the last-seen clock, the read-only refusal of writes, banners."""

from datetime import datetime, timedelta

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import insert, update
from sqlalchemy.exc import DBAPIError

from core.database import SAFE_METHODS
from core.extensions import db
from core.licensing.state import LAST_SEEN, LicenseState, current_state

# Writes that stay open in read-only mode: signing in and out, the language, a new license.
EXEMPT = {"auth.login", "auth.logout", "auth.totp", "auth.language", "licensing.upload"}
TOUCH_EVERY = timedelta(minutes=1)
# Answer without looking at the license: static files, and health checks (even with no database).
UNGATED = {"static", "ui.healthz"}


def exempt_from_read_only(app: Flask, endpoint: str) -> None:
    """Let ``endpoint`` accept writes in read-only mode (e.g. a portal sign-in)."""
    app.extensions.setdefault("crm_read_only_exempt", set(EXEMPT)).add(endpoint)


def touch_last_seen(state: LicenseState) -> None:
    """Move the stored last-seen time forward (at most once a minute, never backwards)."""
    if state.stage == "clock_rollback":
        return
    if state.last_seen is not None and state.now - state.last_seen < TOUCH_EVERY:
        return
    from core.models import Setting

    value = state.now.isoformat(timespec="seconds")
    try:
        db.session.commit()  # end the read, so the update opens a fresh write transaction
        done = db.session.execute(
            update(Setting).where(Setting.key == LAST_SEEN).values(value=value)
        ).rowcount
        if not done:
            db.session.execute(insert(Setting).values(key=LAST_SEEN, value=value))
        db.session.commit()
    except DBAPIError:  # another worker is writing it right now; the next minute will do
        db.session.rollback()


def gate():
    """before_request: note the clock, and refuse writes while the license is read-only."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in UNGATED or endpoint.endswith(".static"):
        return None
    state = current_state()
    touch_last_seen(state)
    if request.method in SAFE_METHODS or not state.read_only:
        return None
    if endpoint in current_app.extensions.get("crm_read_only_exempt", EXEMPT):
        return None
    if request.path.startswith("/api/"):
        from core.api import problem

        return problem(403, _("Read-only"), state.reason)
    return render_template("licensing/read_only.html", message=state.reason), 403


def format_date(moment: datetime | None) -> str:
    """The last day a period covers, in Jalali with the locale's digits ("" for none)."""
    if moment is None:
        return ""
    from core.i18n import jdate

    return jdate(moment - timedelta(microseconds=1))  # periods end at the next day's start


def banners():
    """Trial days left, expiry warning, grace and read-only, for every signed-in user."""
    from core.i18n import digits
    from core.ui import Banner

    if not current_user.is_authenticated:
        return []
    state = current_state()
    if state.read_only:
        return [Banner("license-read-only", "danger", state.reason)]
    if state.stage == "grace":
        return [Banner("license-grace", "danger", _(
            "The license expired on %(date)s. In %(days)s days the CRM becomes read-only; "
            "contact your reseller to renew.",
            date=format_date(state.expires_at), days=digits(state.grace_days_left)))]
    if state.is_trial:
        return [Banner("license-trial", "warning" if state.stage == "warning" else "info", _(
            "Trial: %(days)s days left. Ask your reseller for a license.",
            days=digits(state.days_left)))]
    if state.stage == "warning":
        return [Banner("license-warning", "warning", _(
            "The license expires on %(date)s (%(days)s days left); contact your reseller to "
            "renew.", date=format_date(state.expires_at), days=digits(state.days_left)))]
    return []
