"""SLA cache of a ticket, computed from its events: policy, elapsed, due times, state.

``refresh(ticket, now=at)`` is called by the write path after every change; the periodic job
(``sla_jobs``) recomputes open tickets in batches with one shared ``SlaContext``. The result
depends only on the ticket's events, its priority/customer, the policies and ``now``.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from core.customers.models import customer_tags
from core.database import get_setting, utcnow
from core.extensions import db
from modules.service.models.sla import DEFAULT_HOURS, Calendar, SlaPolicy
from modules.service.models.tickets import TicketEvent
from modules.service.sla import BusinessCalendar, Measure, aware, clock_segments, measure

# the default calendar is data: named once, in the deployment language, then the admin's to edit
DEFAULT_CALENDAR = {"fa": "دفتر تهران", "en": "Tehran office"}
# priority -> (first response, resolution) in business minutes
DEFAULT_TARGETS = {"urgent": (60, 480), "high": (240, 960), "normal": (480, 2400),
                   "low": (960, 4800)}
DEFAULT_POLICY_NAMES = {"urgent": _l("Urgent tickets"), "high": _l("High priority tickets"),
                        "normal": _l("Normal tickets"), "low": _l("Low priority tickets")}
CACHE_COLUMNS = ("sla_policy_id", "first_response_due", "resolution_due",
                 "first_response_seconds", "resolution_seconds", "sla_state",
                 "first_response_breached", "resolution_breached")

# Hook for the customer club: functions ``customer_id -> tier name or ""``. The loyalty module
# can register one with ``register_tier_lookup``; otherwise ``customer_tier(customer_id)`` in
# ``modules.loyalty.services`` is used when it exists. Only while loyalty is active.
TIER_LOOKUPS: list[Callable[[int], str]] = []


def register_tier_lookup(func: Callable[[int], str]) -> None:
    """Let the loyalty module tell the SLA engine a customer's club tier."""
    if func not in TIER_LOOKUPS:
        TIER_LOOKUPS.append(func)


def _loyalty_services_lookup() -> Callable[[int], str] | None:
    try:
        from modules.loyalty import services as loyalty_services
    except ImportError:  # the club module has no services yet
        return None
    return getattr(loyalty_services, "customer_tier", None)


def loyalty_tier(customer_id: int) -> str:
    """The customer's club tier, or "" when loyalty is inactive or cannot say."""
    from core.modules import is_active

    if not is_active("loyalty"):
        return ""
    lookups = TIER_LOOKUPS or [f for f in (_loyalty_services_lookup(),) if f is not None]
    for lookup in lookups:
        tier = lookup(customer_id)
        if tier:
            return str(tier)
    return ""


def ensure_defaults() -> Calendar:
    """The default calendar, plus one policy per priority when there is no policy at all."""
    calendar = db.session.scalar(select(Calendar).where(Calendar.is_default.is_(True)))
    if calendar is None:
        calendar = db.session.scalar(select(Calendar).order_by(Calendar.id).limit(1))
    if calendar is None:
        language = get_setting("display.language") or current_app.config["BABEL_DEFAULT_LOCALE"]
        name = DEFAULT_CALENDAR.get(language, DEFAULT_CALENDAR["fa"])
        try:
            with db.session.begin_nested():
                calendar = Calendar(name=name, timezone="Asia/Tehran",
                                    hours=dict(DEFAULT_HOURS), is_default=True)
                db.session.add(calendar)
        except IntegrityError:  # created at the same time by another transaction
            calendar = db.session.scalar(select(Calendar).where(Calendar.name == name))
    if db.session.scalar(select(SlaPolicy.id).limit(1)) is None:
        for position, (priority, (first, resolution)) in enumerate(DEFAULT_TARGETS.items()):
            db.session.add(SlaPolicy(
                name=str(DEFAULT_POLICY_NAMES[priority]), priority=priority,
                first_response_minutes=first, resolution_minutes=resolution, warn_percent=80,
                calendar_id=calendar.id, position=position))
        db.session.flush()
    return calendar


POLICY_FIELDS = ("id", "priority", "customer_tag_id", "loyalty_tier", "first_response_minutes",
                 "resolution_minutes", "warn_percent", "calendar_id")


class SlaContext:
    """Policies and calendars loaded once as plain values, shared by many refreshes.

    Nothing here touches the database after loading (except tag and tier lookups), so a job
    can end its read transaction and still compute.
    """

    def __init__(self) -> None:
        default = ensure_defaults()
        self.default_calendar_id = default.id
        self.policies = [
            SimpleNamespace(**{f: getattr(p, f) for f in POLICY_FIELDS})
            for p in db.session.scalars(select(SlaPolicy).where(SlaPolicy.active.is_(True))
                                        .order_by(SlaPolicy.position, SlaPolicy.id))]
        self.uses_tags = any(p.customer_tag_id for p in self.policies)
        self.uses_tiers = any(p.loyalty_tier for p in self.policies)
        wanted = {p.calendar_id for p in self.policies if p.calendar_id} | {default.id}
        self._calendars: dict[int, BusinessCalendar] = {
            row.id: BusinessCalendar(row.timezone, row.hours, [h.day for h in row.holidays])
            for row in db.session.scalars(select(Calendar).where(Calendar.id.in_(wanted))
                                          .options(selectinload(Calendar.holidays)))}
        self._tags: dict[int, frozenset[int]] = {}

    def calendar(self, calendar_id: int | None) -> BusinessCalendar:
        """The business calendar of a policy (the default one when it names none)."""
        found = self._calendars.get(calendar_id or self.default_calendar_id)
        return found or self._calendars[self.default_calendar_id]

    def prefetch_tags(self, customer_ids: Iterable[int]) -> None:
        """Load the tags of many customers at once (only when a policy matches on tags)."""
        wanted = {c for c in customer_ids if c not in self._tags}
        if not self.uses_tags or not wanted:
            return
        found: dict[int, set[int]] = {c: set() for c in wanted}
        rows = db.session.execute(select(customer_tags.c.customer_id, customer_tags.c.tag_id)
                                  .where(customer_tags.c.customer_id.in_(wanted)))
        for customer_id, tag_id in rows:
            found[customer_id].add(tag_id)
        self._tags.update({c: frozenset(t) for c, t in found.items()})

    def tags(self, customer_id: int) -> frozenset[int]:
        """Tag ids of a customer."""
        if self.uses_tags and customer_id not in self._tags:
            self.prefetch_tags([customer_id])
        return self._tags.get(customer_id, frozenset())

    def policy_for(self, priority: str, customer_id: int) -> SimpleNamespace | None:
        """The most specific active policy matching the ticket (then position, then id)."""
        tags = self.tags(customer_id) if self.uses_tags else frozenset()
        tier = loyalty_tier(customer_id) if self.uses_tiers else ""
        best, best_score = None, -1
        for policy in self.policies:
            if policy.priority and policy.priority != priority:
                continue
            if policy.customer_tag_id and policy.customer_tag_id not in tags:
                continue
            if policy.loyalty_tier and (not tier or policy.loyalty_tier != tier):
                continue
            score = bool(policy.priority) + bool(policy.customer_tag_id) + bool(
                policy.loyalty_tier)
            if score > best_score:
                best, best_score = policy, score
        return best


def _sorted_events(events: Iterable) -> list:
    return sorted(events, key=lambda e: (aware(e.at), e.id or 0))


def compute(ticket, events: Iterable, context: SlaContext, now: datetime | None = None,
            presorted: bool = False) -> tuple[dict, Measure | None, Measure | None]:
    """The cache columns for ``ticket`` (any object with priority, customer_id, created_at).

    ``presorted``: the events are already in (at, id) order.
    """
    now = aware(now or utcnow())
    policy = context.policy_for(ticket.priority, ticket.customer_id)
    if policy is None:
        empty = dict.fromkeys(CACHE_COLUMNS)
        empty.update(sla_state="ok", first_response_breached=False, resolution_breached=False)
        return empty, None, None
    calendar = context.calendar(policy.calendar_id)
    clocks = clock_segments(ticket.created_at,
                            events if presorted else _sorted_events(events))
    fr = measure(calendar, clocks.first_response, clocks.first_response_stop,
                 timedelta(minutes=policy.first_response_minutes), policy.warn_percent, now)
    res = measure(calendar, clocks.resolution, clocks.resolution_stop,
                  timedelta(minutes=policy.resolution_minutes), policy.warn_percent, now)
    if fr.breached or res.breached:
        state = "breached"
    elif res.stopped:
        state = "met"
    elif fr.warning or res.warning:
        state = "warning"
    else:
        state = "ok"
    values = {
        "sla_policy_id": policy.id, "first_response_due": fr.due, "resolution_due": res.due,
        "first_response_seconds": int(fr.elapsed.total_seconds()),
        "resolution_seconds": int(res.elapsed.total_seconds()), "sla_state": state,
        "first_response_breached": fr.breached, "resolution_breached": res.breached,
    }
    return values, fr, res


def _same(old, new) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return aware(old) == aware(new)
    return old == new


def changed_columns(ticket, values: dict) -> dict:
    """The cache columns whose value differs from what ``ticket`` holds."""
    return {k: v for k, v in values.items() if not _same(getattr(ticket, k), v)}


def refresh(ticket, now: datetime | None = None, context: SlaContext | None = None) -> dict:
    """Recompute ``ticket``'s SLA columns from its event history; returns what changed."""
    context = context or SlaContext()
    events = ticket.events if ticket.id is not None else []
    if ticket.id is not None and not events:
        events = db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id)).all()
    values, _fr, _res = compute(ticket, events, context, now)
    changes = changed_columns(ticket, values)
    for key, value in changes.items():
        setattr(ticket, key, value)
    return changes
