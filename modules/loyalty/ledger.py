"""The points ledger: the only code that changes a member's points.

Every function here runs in the caller's transaction and starts by locking the member row
(a write: a row lock on PostgreSQL, the database write lock on SQLite), so two changes of one
member never interleave. Under the lock it first *settles* the member — releases pending lots
whose return window has passed and expires lots past their date — so nothing is ever spent
from pending or expired points, even when the periodic jobs are late.

Invariants (checked by ``problems(member)`` and by the hypothesis stateful test):

- ``member.balance`` = sum of the member's ``available`` entries ≥ 0, and
  ``member.pending`` = sum of their ``pending`` entries ≥ 0;
- the remaining points of the member's available lots sum to ``balance``, of the pending
  lots to ``pending``;
- redeeming takes from the lots that expire first (then the oldest), never from a pending
  or an expired lot.

An automatic entry carries a ``key`` (``earn:sales.invoice:12``, ``expire:lot:7``): writing
the same key twice returns the first entry, so jobs and listeners can run again safely.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import jdatetime
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from core.database import get_setting, utcnow
from core.events import emit, points_changed
from core.extensions import db
from core.i18n import local_date
from modules.loyalty.models.ledger import Entry, Lot, LotUse
from modules.loyalty.models.members import Member

MAX_POINTS = 10**12


class LedgerError(Exception):
    """A change of points that is refused, with a message for the user."""


class InsufficientPoints(LedgerError):
    def __init__(self, wanted: int, available: int):
        from core.i18n import format_number

        self.wanted, self.available = wanted, available
        super().__init__(_("Not enough points: %(wanted)s wanted, %(available)s available.",
                           wanted=format_number(wanted), available=format_number(available)))


@dataclass(frozen=True)
class ClubSettings:
    """The club's settings (``loyalty.*`` deployment settings, with these defaults)."""

    point_value: int = 1000  # rials one point is worth (the liability of one point)
    pending_days: int = 0  # return window: earned points wait this many days
    expiry_months: int = 12  # Jalali months a lot lives; 0 = never expires
    tier_window_months: int = 12  # rolling window of Jalali months for tier thresholds
    downgrade_notice_days: int = 30
    auto_enrol: bool = True  # a customer's first posted invoice enrols them


SETTING_KEYS = {name: f"loyalty.{name}" for name in ClubSettings.__dataclass_fields__}


def club_settings() -> ClubSettings:
    """The club's settings, read once per request (a member page asks for them four times;
    saving a setting forgets them)."""
    from core.i18n import request_cached

    return request_cached("loyalty.club_settings", _read_club_settings)


def _read_club_settings() -> ClubSettings:
    from core.models import Setting

    stored_values = dict(db.session.execute(select(Setting.key, Setting.value).where(
        Setting.key.in_(list(SETTING_KEYS.values())))).all())  # one query, not one per key
    values = {}
    for name, key in SETTING_KEYS.items():
        stored = stored_values.get(key)
        if stored is not None:
            values[name] = bool(stored) if name == "auto_enrol" else int(stored)
    return ClubSettings(**values)


def _point_value() -> int:
    stored = get_setting(SETTING_KEYS["point_value"])
    return ClubSettings.point_value if stored is None else int(stored)


def today() -> date:
    return local_date(utcnow())


def add_jalali_months(day: date, months: int) -> date:
    """The same Jalali day ``months`` later (the month's last day when it is shorter)."""
    j = jdatetime.date.fromgregorian(date=day)
    index = j.year * 12 + (j.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = 31 if month <= 6 else 30 if month < 12 else (30 if jdatetime.date(
        year, 1, 1).isleap() else 29)
    return jdatetime.date(year, month, min(j.day, last)).togregorian()


# --- locking and settling ------------------------------------------------------------------

def lock_member(member_id: int) -> Member:
    """Lock the member row for the rest of the transaction and return it, fresh."""
    done = db.session.execute(update(Member).where(Member.id == member_id)
                              .values(balance=Member.balance)
                              .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise LedgerError(_("There is no such club member."))
    return db.session.get(Member, member_id, populate_existing=True)


def _by_key(key: str | None) -> Entry | None:
    if key is None:
        return None
    return db.session.execute(select(Entry).where(Entry.key == key)).scalar()


def _write(member: Member, kind: str, bucket: str, points: int, *, reason: str = "",
           reference: str = "", key: str | None = None, rule_id: int | None = None,
           reverses_id: int | None = None, amount: int = 0, by=None,
           at: datetime | None = None) -> Entry:
    if bucket == "available":
        member.balance += points
    else:
        member.pending += points
    if member.balance < 0 or member.pending < 0:
        raise LedgerError(_("Points can never go below zero."))
    if kind in ("earn", "adjust") and points > 0 and reverses_id is None:
        member.lifetime_earned += points
    elif kind == "redeem":  # a returned redemption (positive) lowers the total again
        member.lifetime_redeemed -= points
    if kind in ("earn", "redeem"):  # the member's own doing, not a job's
        member.last_activity_on = today()
    entry = Entry(member_id=member.id, kind=kind, bucket=bucket, points=points,
                  reason=reason[:300], reference=reference[:100], key=key, rule_id=rule_id,
                  reverses_id=reverses_id, balance_after=member.balance,
                  pending_after=member.pending, amount=amount,
                  created_by_id=getattr(by, "id", None), created_at=at or utcnow())
    db.session.add(entry)
    db.session.flush()
    emit(points_changed, member_id=member.id, customer_id=member.customer_id,
         entry_id=entry.id, kind=kind, bucket=bucket, points=points,
         value=points * _point_value(), reference=entry.reference,
         occurred_at=entry.created_at)
    return entry


def _release_lot(member: Member, lot: Lot) -> None:
    key = f"release:lot:{lot.id}"
    if _by_key(key) is not None:
        return
    moved = lot.remaining
    lot.status = "available" if moved else "used"
    if moved:
        out = _write(member, "release", "pending", -moved, key=key, reference=lot.reference,
                     reason=_("Return window passed"))
        db.session.add(LotUse(entry_id=out.id, lot_id=lot.id, points=moved))
        _write(member, "release", "available", moved, key=f"{key}:in",
               reference=lot.reference, reason=_("Return window passed"))


def _expire_lot(member: Member, lot: Lot) -> Entry | None:
    key = f"expire:lot:{lot.id}"
    if _by_key(key) is not None:
        return None
    points = lot.remaining
    lot.remaining, lot.status = 0, "expired"
    if not points:
        return None
    entry = _write(member, "expire", "available", -points, key=key, reference=lot.reference,
                   reason=_("Points expired"))
    db.session.add(LotUse(entry_id=entry.id, lot_id=lot.id, points=points))
    return entry


def settle(member: Member, day: date | None = None) -> None:
    """Release due pending lots and expire lots past their date (the member is locked)."""
    day = day or today()
    due = db.session.execute(select(Lot).where(
        Lot.member_id == member.id, Lot.status == "pending", Lot.available_on <= day)
        .order_by(Lot.id)).scalars().all()
    for lot in due:
        _release_lot(member, lot)
    old = db.session.execute(select(Lot).where(
        Lot.member_id == member.id, Lot.status == "available", Lot.expires_on.is_not(None),
        Lot.expires_on < day).order_by(Lot.id)).scalars().all()
    for lot in old:
        _expire_lot(member, lot)


def _spend_order():
    return (Lot.expires_on.is_(None), Lot.expires_on, Lot.id)


def _take(member: Member, entry: Entry, points: int, lots) -> int:
    """Take up to ``points`` from ``lots`` in order, recording each take; returns what was
    taken."""
    taken = 0
    for position, lot in enumerate(lots):
        if taken >= points:
            break
        part = min(lot.remaining, points - taken)
        if part <= 0:
            continue
        lot.remaining -= part
        if lot.remaining == 0:
            lot.status = "used"
        taken += part
        db.session.add(LotUse(entry_id=entry.id, lot_id=lot.id, points=part,
                              position=position))
    db.session.flush()
    return taken


def _available_lots(member_id: int):
    return db.session.execute(select(Lot).where(
        Lot.member_id == member_id, Lot.status == "available", Lot.remaining > 0)
        .order_by(*_spend_order())).scalars().all()


# --- the operations ------------------------------------------------------------------------

def _check_points(points) -> int:
    if isinstance(points, bool) or not isinstance(points, int):
        raise LedgerError(_("Points are a whole number."))
    if points <= 0:
        raise LedgerError(_("Points are more than zero."))
    if points >= MAX_POINTS:
        raise LedgerError(_("This number of points is too large."))
    return points


def earn(member: Member, points: int, *, reason: str, reference: str = "",
         key: str | None = None, rule_id: int | None = None, amount: int = 0,
         pending_days: int | None = None, expires_on: date | None = None, by=None,
         kind: str = "earn") -> Entry:
    """Add ``points`` as a new lot: pending for the return window, then available until it
    expires (``expires_on``, by default the club's expiry months from the day it is earned)."""
    _check_points(points)
    member = lock_member(member.id)  # before any read: see _members_with
    existing = _by_key(key)
    if existing is not None:
        return existing
    if kind == "earn" and member.status != "active":
        raise LedgerError(_("This member has left the club and earns no points."))
    day = today()
    settle(member, day)
    settings = club_settings()
    wait = settings.pending_days if pending_days is None else pending_days
    available_on = day + timedelta(days=max(wait, 0))
    if expires_on is None and settings.expiry_months:
        expires_on = add_jalali_months(available_on, settings.expiry_months)
    if expires_on is not None and expires_on < available_on:
        raise LedgerError(_("Points cannot expire before they become available."))
    bucket = "pending" if available_on > day else "available"
    entry = _write(member, kind, bucket, points, reason=reason, reference=reference, key=key,
                   rule_id=rule_id, amount=amount, by=by)
    db.session.add(Lot(member_id=member.id, entry_id=entry.id, points=points,
                       remaining=points, status=bucket, earned_at=entry.created_at,
                       available_on=available_on, expires_on=expires_on,
                       reference=reference[:100]))
    db.session.flush()
    return entry


def redeem(member: Member, points: int, *, reason: str, reference: str = "",
           key: str | None = None, by=None, kind: str = "redeem") -> Entry:
    """Spend ``points`` from available lots, soonest to expire first; ``InsufficientPoints``
    when the member cannot afford it (nothing is written then)."""
    _check_points(points)
    member = lock_member(member.id)  # before any read: see _members_with
    existing = _by_key(key)
    if existing is not None:
        return existing
    settle(member)
    if member.balance < points:
        raise InsufficientPoints(points, member.balance)
    entry = _write(member, kind, "available", -points, reason=reason, reference=reference,
                   key=key, by=by)
    taken = _take(member, entry, points, _available_lots(member.id))
    if taken != points:  # the lots disagree with the balance: never write a wrong ledger
        raise LedgerError(_("The member's points do not add up; nothing was changed."))
    return entry


def adjust(member: Member, points: int, *, reason: str, by=None, reference: str = "",
           key: str | None = None) -> Entry:
    """A manual correction: positive points form a new lot, negative ones are taken like a
    redemption. A reason is required."""
    if not (reason or "").strip():
        raise LedgerError(_("Say why the points are adjusted."))
    if isinstance(points, int) and not isinstance(points, bool) and points < 0:
        return redeem(member, -points, reason=reason, reference=reference, key=key, by=by,
                      kind="adjust")
    return earn(member, points, reason=reason, reference=reference, key=key, by=by,
                pending_days=0, kind="adjust")


def reverse_earning(member: Member, reference: str, points: int, *, reason: str,
                    key: str | None = None, by=None) -> list[Entry]:
    """Take back up to ``points`` earned under ``reference`` (a refund or credit note).

    Points still in that reference's lots come back first (pending ones from the pending
    bucket); what was already spent is taken from the member's other available points,
    soonest to expire first, as far as the balance allows: points never go below zero, and
    what cannot be recovered is named in the entry's reason.
    """
    _check_points(points)
    member = lock_member(member.id)
    if key is not None and _by_key(key) is not None:
        return list(db.session.execute(select(Entry).where(
            (Entry.key == key) | Entry.key.like(f"{key}:%")).order_by(Entry.id)).scalars())
    settle(member)
    own = db.session.execute(select(Lot).where(
        Lot.member_id == member.id, Lot.reference == reference,
        Lot.status.in_(("pending", "available")), Lot.remaining > 0)
        .order_by(Lot.id.desc())).scalars().all()
    entries = []
    left = min(points, _reversible(member.id, reference))
    for bucket in ("pending", "available"):
        lots = [lot for lot in own if lot.status == bucket]
        amount = min(left, sum(lot.remaining for lot in lots))
        if amount <= 0:
            continue
        entry = _write(member, "reverse", bucket, -amount, reason=reason, reference=reference,
                       key=key if not entries else f"{key}:{bucket}" if key else None, by=by)
        _take(member, entry, amount, lots)
        for lot in lots:
            if lot.remaining == 0:
                lot.status = "reversed"
        entries.append(entry)
        left -= amount
    if left > 0:
        amount = min(left, member.balance)
        if amount > 0:
            entry = _write(member, "reverse", "available", -amount,
                           reason=_("%(reason)s (from other points)", reason=reason),
                           reference=reference,
                           key=key if not entries else f"{key}:other" if key else None, by=by)
            _take(member, entry, amount, _available_lots(member.id))
            entries.append(entry)
            left -= amount
    return entries


def _reversible(member_id: int, reference: str) -> int:
    """Points ``reference`` earned that are not yet reversed and did not expire (expired
    points are gone already: a refund never takes them twice)."""
    lots = select(Lot.id).where(Lot.member_id == member_id, Lot.reference == reference)
    earned = db.session.execute(select(func.coalesce(func.sum(Lot.points), 0)).where(
        Lot.member_id == member_id, Lot.reference == reference)).scalar_one()
    expired = db.session.execute(
        select(func.coalesce(func.sum(LotUse.points), 0)).join(Entry, Entry.id == LotUse.entry_id)
        .where(LotUse.lot_id.in_(lots), Entry.kind == "expire")).scalar_one()
    reversed_ = db.session.execute(select(func.coalesce(func.sum(Entry.points), 0)).where(
        Entry.member_id == member_id, Entry.reference == reference,
        Entry.kind == "reverse")).scalar_one()
    return max(int(earned) - int(expired) + int(reversed_), 0)


def return_redemption(entry: Entry, *, reason: str, by=None) -> Entry:
    """Give back the points of a redemption (a cancelled reward) to the lots it used; points
    of a lot that has expired since are not given back."""
    key = f"return:{entry.id}"
    if entry.kind not in ("redeem", "adjust") or entry.points >= 0 or entry.reverses_id:
        raise LedgerError(_("Only a redemption can be given back."))
    member = lock_member(entry.member_id)
    existing = _by_key(key)
    if existing is not None:
        return existing
    settle(member)
    uses = db.session.execute(select(LotUse).where(LotUse.entry_id == entry.id)
                              .order_by(LotUse.position)).scalars().all()
    day = today()
    back = 0
    for use in uses:
        lot = use.lot
        if lot.expires_on is not None and lot.expires_on < day:
            continue
        lot.remaining += use.points
        lot.status = "available"
        back += use.points
    if back == 0:
        raise LedgerError(_("The points of this redemption have expired since."))
    # the same kind, positive: burn reports and the liability net out the redemption
    return _write(member, entry.kind, "available", back, reason=reason,
                  reference=entry.reference, key=key, reverses_id=entry.id, by=by)


# --- jobs ----------------------------------------------------------------------------------

def _members_with(condition) -> list[int]:
    """The members concerned; the read ends here, so each member's transaction starts with
    its lock (a write) — on SQLite a read-then-write transaction could meet a stale snapshot."""
    ids = list(db.session.execute(select(Lot.member_id).where(condition).distinct()
                                  .order_by(Lot.member_id)).scalars())
    db.session.commit()
    return ids


def release_due(day: date | None = None) -> int:
    """Release every pending lot whose return window has passed; one commit per member."""
    day = day or today()
    count = 0
    for member_id in _members_with((Lot.status == "pending") & (Lot.available_on <= day)):
        settle(lock_member(member_id), day)
        db.session.commit()
        count += 1
    return count


def expire_due(day: date | None = None) -> int:
    """Expire every lot past its date (run twice, it expires once); returns the members."""
    day = day or today()
    count = 0
    for member_id in _members_with((Lot.status == "available") & Lot.expires_on.is_not(None)
                                   & (Lot.expires_on < day)):
        settle(lock_member(member_id), day)
        db.session.commit()
        count += 1
    return count


def expiring(member_id: int, within_days: int = 30, day: date | None = None) -> list[Lot]:
    """Available lots of a member that expire within ``within_days``."""
    day = day or today()
    return list(db.session.execute(select(Lot).where(
        Lot.member_id == member_id, Lot.status == "available", Lot.remaining > 0,
        Lot.expires_on.is_not(None), Lot.expires_on >= day,
        Lot.expires_on <= day + timedelta(days=within_days)).order_by(*_spend_order()))
        .scalars())


# --- checks and merge ----------------------------------------------------------------------

def problems(member: Member) -> list[str]:
    """What is wrong with a member's ledger (empty when every invariant holds)."""
    found = []
    sums = dict(db.session.execute(select(Entry.bucket, func.coalesce(func.sum(Entry.points), 0))
                                   .where(Entry.member_id == member.id)
                                   .group_by(Entry.bucket)).all())
    lots = dict(db.session.execute(select(Lot.status, func.coalesce(func.sum(Lot.remaining), 0))
                                   .where(Lot.member_id == member.id)
                                   .group_by(Lot.status)).all())
    if int(sums.get("available", 0)) != member.balance:
        found.append(f"balance {member.balance} != ledger {sums.get('available', 0)}")
    if int(sums.get("pending", 0)) != member.pending:
        found.append(f"pending {member.pending} != ledger {sums.get('pending', 0)}")
    if int(lots.get("available", 0)) != member.balance:
        found.append(f"balance {member.balance} != available lots {lots.get('available', 0)}")
    if int(lots.get("pending", 0)) != member.pending:
        found.append(f"pending {member.pending} != pending lots {lots.get('pending', 0)}")
    if member.balance < 0 or member.pending < 0:
        found.append("negative points")
    dead = db.session.execute(select(func.count()).select_from(Lot).where(
        Lot.member_id == member.id, Lot.status.in_(("used", "expired", "reversed")),
        Lot.remaining != 0)).scalar_one()
    if dead:
        found.append(f"{dead} used, expired or reversed lots still hold points")
    return found


def merge_members(survivor: Member, loser: Member) -> None:
    """Fold ``loser``'s entries, lots and balances into ``survivor`` (customer merge)."""
    if survivor.id == loser.id:
        raise LedgerError(_("A member cannot be merged into themselves."))
    first, second = sorted((survivor.id, loser.id))  # one lock order: no deadlock
    locked = {first: lock_member(first), second: lock_member(second)}
    survivor, loser = locked[survivor.id], locked[loser.id]
    db.session.execute(update(Member).where(Member.referred_by_id == loser.id,
                                            Member.id != survivor.id)
                       .values(referred_by_id=survivor.id)
                       .execution_options(synchronize_session=False))
    for model in (Entry, Lot):
        db.session.execute(update(model).where(model.member_id == loser.id)
                           .values(member_id=survivor.id)
                           .execution_options(synchronize_session=False))
    survivor.balance += loser.balance
    survivor.pending += loser.pending
    survivor.lifetime_earned += loser.lifetime_earned
    survivor.lifetime_redeemed += loser.lifetime_redeemed
    loser.balance = loser.pending = loser.lifetime_earned = loser.lifetime_redeemed = 0
    if loser.last_activity_on and (survivor.last_activity_on is None
                                   or loser.last_activity_on > survivor.last_activity_on):
        survivor.last_activity_on = loser.last_activity_on
    db.session.flush()
