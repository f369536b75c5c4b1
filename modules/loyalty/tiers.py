"""Tiers: who qualifies for which level, upgrades at once, downgrades after a notice.

A member qualifies for a tier by the points they earned (``earn`` entries net of their
reversals; manual adjustments do not count) or by what they spent (their purchases in the
customer analytics, net of refunds, plus purchases only the club recorded through its API)
over the rolling window of the club's ``tier_window_months`` Jalali months. A tier with neither
threshold is the base tier everyone qualifies for. The member's tier is the highest-ranked
active tier they qualify for:

- higher than their tier: upgraded at once (a ``TierChange`` up, done; ``notify.tier_changed``);
- lower: a downgrade is scheduled ``downgrade_notice_days`` ahead (``notify.downgrade_notice``
  once); it is cancelled when they qualify again before it, and done by the periodic review
  (``loyalty.tiers``) when it falls due.
"""

import logging
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.database import utcnow
from core.extensions import db
from core.i18n import utc_range
from modules.loyalty import ledger
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.members import Member
from modules.loyalty.models.tiers import Tier, TierChange

log = logging.getLogger(__name__)


def active_tiers() -> list[Tier]:
    """Active tiers, lowest rank first."""
    return list(db.session.execute(select(Tier).where(Tier.active.is_(True))
                                   .order_by(Tier.rank, Tier.id)).scalars())


def window_start(day=None):
    """The first day of the rolling qualification window ending ``day`` (today)."""
    day = day or ledger.today()
    return ledger.add_jalali_months(day, -ledger.club_settings().tier_window_months)


def window_totals(member: Member, day=None) -> tuple[int, int]:
    """(points earned, rials spent) by the member in the qualification window."""
    from core.analytics.models import Purchase

    day = day or ledger.today()
    start, _end = utc_range(window_start(day), day)
    points = db.session.execute(select(func.coalesce(func.sum(Entry.points), 0)).where(
        Entry.member_id == member.id, Entry.kind.in_(("earn", "reverse")),
        Entry.created_at >= start)).scalar()
    spend = db.session.execute(select(func.coalesce(func.sum(Purchase.amount), 0)).where(
        Purchase.customer_id == member.customer_id, Purchase.occurred_at >= start)).scalar()
    # purchases only the club knows (the transactions API): the rials on their earn entries
    club_only = db.session.execute(select(func.coalesce(func.sum(Entry.amount), 0)).where(
        Entry.member_id == member.id, Entry.kind == "earn", Entry.amount > 0,
        Entry.created_at >= start, ~Entry.reference.like("sales.invoice:%"))).scalar()
    return max(int(points), 0), max(int(spend) + int(club_only), 0)


def qualifies(tier: Tier, points: int, spend: int) -> bool:
    if tier.min_points is None and tier.min_spend is None:
        return True
    return ((tier.min_points is not None and points >= tier.min_points)
            or (tier.min_spend is not None and spend >= tier.min_spend))


def target_tier(member: Member, tiers: list[Tier] | None = None, day=None) -> Tier | None:
    points, spend = window_totals(member, day)
    best = None
    for tier in tiers if tiers is not None else active_tiers():
        if qualifies(tier, points, spend):
            best = tier
    return best


def _rank(tier: Tier | None) -> int:
    return tier.rank if tier is not None else -(10**9)


def scheduled_downgrade(member: Member) -> TierChange | None:
    return db.session.execute(select(TierChange).where(
        TierChange.member_id == member.id, TierChange.status == "scheduled")
        .order_by(TierChange.id.desc())).scalars().first()


def _notify(name: str, member: Member, change: TierChange) -> None:
    from modules.loyalty import notify

    send = getattr(notify, name, None)
    if send is not None:
        send(member, change)


def _move(member: Member, change: TierChange, to: Tier | None, now: datetime) -> None:
    member.tier_id = to.id if to is not None else None
    member.tier = to
    member.tier_since = now
    change.status, change.effective_at = "done", now
    db.session.flush()
    if change.from_tier_id is not None or change.direction == "down":
        _notify("tier_changed", member, change)


def evaluate(member: Member, now: datetime | None = None) -> TierChange | None:
    """Put the member in the tier they qualify for: an upgrade at once, a downgrade scheduled
    with notice (done when due). Returns the change made or scheduled, or None."""
    if member is None or member.status != "active":
        return None
    now = _aware(now or utcnow())
    day = _local_day(now)
    target = target_tier(member, day=day)
    current = member.tier
    pending = scheduled_downgrade(member)
    if target is not None and _rank(target) > _rank(current):
        if pending is not None:
            pending.status = "cancelled"
        change = TierChange(member_id=member.id, from_tier_id=getattr(current, "id", None),
                            to_tier_id=target.id, direction="up", status="scheduled",
                            reason=_("Qualified for a higher tier"), created_at=now)
        db.session.add(change)
        _move(member, change, target, now)
        return change
    if current is None or getattr(target, "id", None) == current.id \
            or _rank(target) >= _rank(current):
        if pending is not None:
            pending.status = "cancelled"
            db.session.flush()
        return None
    # qualifies for less than their tier
    if pending is None:
        notice = ledger.club_settings().downgrade_notice_days
        pending = TierChange(member_id=member.id, from_tier_id=current.id,
                             to_tier_id=getattr(target, "id", None), direction="down",
                             status="scheduled", effective_at=now + timedelta(days=notice),
                             reason=_("No longer qualifies for this tier"), created_at=now)
        db.session.add(pending)
        db.session.flush()
        if notice > 0:
            pending.notice_sent_at = now
            _notify("downgrade_notice", member, pending)
            return pending
    else:
        pending.to_tier_id = getattr(target, "id", None)
    if _aware(pending.effective_at) <= now:
        _move(member, pending, target, now)
    return pending


def _aware(value: datetime) -> datetime:
    from datetime import UTC

    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _local_day(now: datetime):
    from core.i18n import local_date

    return local_date(now)


def review(now: datetime | None = None) -> int:
    """The periodic job: evaluate every active member (due downgrades happen here), one
    commit per member; returns the changes made or scheduled."""
    ids = list(db.session.execute(select(Member.id).where(Member.status == "active")
                                  .order_by(Member.id)).scalars())
    db.session.commit()
    count = 0
    for member_id in ids:
        try:
            member = ledger.lock_member(member_id)
            if evaluate(member, now) is not None:
                count += 1
            db.session.commit()
        except Exception:  # noqa: BLE001 - one member's failure must not stop the review
            db.session.rollback()
            log.exception("tier review of member %s failed", member_id)
    return count


def run_review() -> int:
    return review()


def tier_progress(member: Member) -> dict:
    """The member's tier, the next one, their points and spend in the window, what is
    missing for the next tier, and a scheduled downgrade."""
    points, spend = window_totals(member)
    tiers = active_tiers()
    current = member.tier
    higher = [t for t in tiers if _rank(t) > _rank(current)]
    following = higher[0] if higher else None
    missing_points = missing_spend = None
    if following is not None:
        if following.min_points is not None:
            missing_points = max(following.min_points - points, 0)
        if following.min_spend is not None:
            missing_spend = max(following.min_spend - spend, 0)
    downgrade = scheduled_downgrade(member)
    return {"tier": current, "next": following, "points": points, "spend": spend,
            "window_start": window_start(), "window_months":
                ledger.club_settings().tier_window_months,
            "missing_points": missing_points, "missing_spend": missing_spend,
            "downgrade": downgrade}


def _on_enrol(member: Member) -> None:
    from core.modules import is_active

    if is_active("loyalty"):
        evaluate(member)


def register(app) -> None:
    """The periodic review; new members get the tier they qualify for."""
    from core.jobs import periodic
    from modules.loyalty import hooks

    periodic("loyalty.tiers", 3600 * 6, run_review)
    if _on_enrol not in hooks.ON_ENROL:
        hooks.ON_ENROL.append(_on_enrol)
