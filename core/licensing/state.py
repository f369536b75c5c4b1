"""The license in force: a per-process cache of verified documents plus a cheap stage per request.

Each request reads four settings in one query: the license version stamp, the last-seen time,
the deployment id and its start. The verified license is reloaded only when the stamp changes
(another worker installed something); the stage (active, warning, grace, read-only) is worked
out from the clock on every request, so expiry takes effect on time in every worker.
"""

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app, g, has_app_context
from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.licensing.documents import (
    TEHRAN,
    DocumentError,
    License,
    Revocations,
    parse_moment,
    read_revocations,
    verify_license,
)

STAMP = "license.version"
LAST_SEEN = "license.last_seen"
DEPLOYMENT_ID = "deployment.id"
INITIALISED_AT = "deployment.initialised_at"
KEYS = (STAMP, LAST_SEEN, DEPLOYMENT_ID, INITIALISED_AT)
READ_ONLY_STAGES = frozenset({"read_only", "clock_rollback"})


def now() -> datetime:
    """The current time as licensing sees it (tests set ``CRM_NOW`` to a callable)."""
    hook = current_app.config.get("CRM_NOW") if has_app_context() else None
    moment = hook() if hook else datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Snapshot:
    """What the database holds, verified once per stamp."""

    stamp: object
    deployment_id: str | None
    license: License | None
    revocations: Revocations
    notice: str = ""  # why an installed license is not in force, if one is not


@dataclass
class LicenseState:
    """The license in force right now, as every request sees it."""

    kind: str = "trial"
    stage: str = "active"  # active, warning, grace, read_only, clock_rollback
    license: License | None = None
    expires_at: datetime | None = None
    grace_until: datetime | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    deployment_id: str | None = None
    trial_seats: int = 3
    notice: str = ""
    last_seen: datetime | None = None

    @property
    def read_only(self) -> bool:
        return self.stage in READ_ONLY_STAGES

    @property
    def is_trial(self) -> bool:
        """Running without an installed license (every module, trial seats)."""
        return self.license is None

    @property
    def days_left(self) -> int | None:
        """Whole days until expiry (0 on the last day), or None when it never expires."""
        if self.expires_at is None:
            return None
        return max(0, (self.expires_at - self.now).days)

    @property
    def grace_days_left(self) -> int | None:
        if self.grace_until is None:
            return None
        return max(0, (self.grace_until - self.now).days)

    @property
    def reason(self) -> str:
        """Why writes are refused, in plain words ("" when they are not)."""
        if self.stage == "clock_rollback":
            return _("The system clock went back: it reads %(now)s, but this deployment was "
                     "already running at %(seen)s. Writes are paused until the clock is "
                     "corrected; reads and exports still work.",
                     now=_when(self.now), seen=_when(self.last_seen))
        if self.stage == "read_only":
            return _("The license has expired; reads and exports still work. Contact your "
                     "reseller for a new license.")
        return ""

    def module_refusal(self, name: str) -> str:
        """Why module ``name`` is not licensed now, or "" when it is."""
        if self.read_only or self.license is None:
            return ""  # read-only keeps modules readable; the trial covers every module
        if self.license.modules.get(name, 0) < 1:
            return _("not licensed: the license does not include this module; "
                     "contact your reseller to add it")
        return ""

    def seats_for(self, name: str) -> int:
        """How many users may hold a seat in module ``name``."""
        if self.license is None:
            return self.trial_seats
        return self.license.modules.get(name, 0)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(TEHRAN).strftime("%Y-%m-%d %H:%M")


class _Cache:
    def __init__(self):
        self.snapshot: Snapshot | None = None
        self.lock = threading.Lock()


def _cache(app) -> _Cache:
    return app.extensions.setdefault("crm_licensing", _Cache())


_SETTINGS_QUERY = []


def read_settings() -> dict:
    """The four settings licensing needs, in one query (built once, run on the Core layer);
    the same query brings the settings every page reads (``REQUEST_SETTINGS``)."""
    from core.database import REQUEST_SETTINGS, remember_request_settings

    if not _SETTINGS_QUERY:
        from core.models import Setting

        table = Setting.__table__
        _SETTINGS_QUERY.append(select(table.c.key, table.c.value).where(
            table.c.key.in_((*KEYS, *REQUEST_SETTINGS))))
    values = dict(db.session.connection().execute(_SETTINGS_QUERY[0]).all())
    if not (db.session.new or db.session.dirty):  # (a Core read does not flush)
        remember_request_settings(values)
    return values


def load_snapshot(stamp, deployment_id: str | None, moment: datetime) -> Snapshot:
    """Verify what is installed and pick the newest valid license."""
    from core.licensing.models import InstalledLicense, InstalledRevocations

    root_keys = current_app.config["CRM_LICENSE_ROOT_KEYS"]
    revocations, notice = Revocations(), ""
    newest = db.session.execute(
        select(InstalledRevocations.text).order_by(InstalledRevocations.sequence.desc()).limit(1)
    ).scalar()
    if newest is not None:
        try:
            revocations = read_revocations(newest, root_keys)
        except DocumentError as exc:
            notice = _("The installed revocation list is not valid: %(reason)s", reason=str(exc))
    texts = db.session.execute(
        select(InstalledLicense.text).order_by(InstalledLicense.id.desc())
    ).scalars()
    for text in texts:
        try:
            lic = verify_license(text, root_keys=root_keys, deployment_id=deployment_id,
                                 now=moment, revocations=revocations)
        except DocumentError as exc:
            notice = notice or _("An installed license is not in force: %(reason)s",
                                 reason=str(exc))
            continue
        return Snapshot(stamp, deployment_id, lic, revocations, notice)
    return Snapshot(stamp, deployment_id, None, revocations, notice)


def _fresh(snapshot: Snapshot | None, stamp, deployment_id) -> bool:
    return snapshot is not None and snapshot.stamp == stamp \
        and snapshot.deployment_id == deployment_id


def _stage(moment: datetime, expires_at, grace_until, warning_days: int) -> str:
    if expires_at is None:
        return "active"
    if moment >= grace_until:
        return "read_only"
    if moment >= expires_at:
        return "grace"
    if moment >= expires_at - timedelta(days=warning_days):
        return "warning"
    return "active"


def compute_state() -> LicenseState:
    """Work out the state from the database stamp and the clock (one small query)."""
    app = current_app._get_current_object()
    config = app.config
    settings = read_settings()
    moment = now()
    cache = _cache(app)
    snapshot = cache.snapshot
    stamp, deployment_id = settings.get(STAMP), settings.get(DEPLOYMENT_ID)
    if not _fresh(snapshot, stamp, deployment_id):
        with cache.lock:  # one thread reloads; the others then find it fresh
            snapshot = cache.snapshot
            if not _fresh(snapshot, stamp, deployment_id):
                snapshot = cache.snapshot = load_snapshot(stamp, deployment_id, moment)
    lic = snapshot.license
    if lic is not None:
        kind, expires_at, grace_until = lic.kind, lic.expires_at, lic.grace_until
    else:
        started = parse_moment(settings.get(INITIALISED_AT)) or moment
        kind = "trial"
        expires_at = started + timedelta(days=config.get("CRM_TRIAL_DAYS", 30))
        grace_until = expires_at + timedelta(days=config.get("CRM_TRIAL_GRACE_DAYS", 0))
    stage = _stage(moment, expires_at, grace_until, config.get("CRM_EXPIRY_WARNING_DAYS", 30))
    last_seen = parse_moment(settings.get(LAST_SEEN))
    tolerance = timedelta(seconds=config.get("CRM_CLOCK_TOLERANCE_SECONDS", 3600))
    if last_seen is not None and moment < last_seen - tolerance:
        stage = "clock_rollback"
    return LicenseState(kind=kind, stage=stage, license=lic, expires_at=expires_at,
                        grace_until=grace_until, now=moment, deployment_id=deployment_id,
                        trial_seats=config.get("CRM_TRIAL_SEATS", 3), notice=snapshot.notice,
                        last_seen=last_seen)


def current_state() -> LicenseState:
    """The license state for this request (computed once per request or app context)."""
    state = g.get("crm_license_state")
    if state is None:
        state = g.crm_license_state = compute_state()
    return state


def forget_state() -> None:
    """Drop this context's cached state (after an install, so the next look is fresh)."""
    g.pop("crm_license_state", None)
    g.pop("crm_active_modules", None)
