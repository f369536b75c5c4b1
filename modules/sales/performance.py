"""Sales targets and how each salesperson and team did against them, by Jalali month.

Definitions (every figure is aggregated in SQL, per person, then summed per team):

- **Period**: one Jalali month or a range of whole months, bounded by Tehran midnights
  (``core.i18n.jalali_month_utc_range``): a deal closed at 23:30 Tehran time on the last day
  of Aban counts in Aban.
- **Achieved**: the totals (VAT included) of invoices *posted* in the period minus the
  totals of credit notes posted in the period. An invoice counts for its ``owner_id`` (the
  salesperson who owns the customer's deal or order; a credit note inherits the original's
  owner) and, when it has no owner, for the user who created it. A corrective invoice needs
  no special case: posting it credits the original in full with a credit note.
- **Won / lost**: deals closed (``closed_at``) in the period, counted for their owner.
  Win rate = won / (won + lost), None when nothing was closed. Average won deal size = won
  value / won count. Sales cycle = average days from ``created_at`` to ``closed_at`` of the
  won deals.
- **Target**: the sum of the person's monthly targets (``sales_target``) over the period.
- **Teams**: people are grouped by their current team (``User.team_id``); a team's figures
  are the sums of its people's, its rates recomputed from those sums.

Scope (``core.auth.scope`` conventions applied to *people*): "all" sees everyone, "team"
sees the members of the viewer's team and the viewer, "own" (agents) sees only the viewer.
People outside the scope are simply not listed; setting a target for one is refused as if
they did not exist (``TargetError``). Listed are the active users with a sales seat and
anyone with a target or figures in the period.
"""

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, case, false, func, or_, select

from core.auth.models import Seat, User
from core.auth.scope import current_scope
from core.extensions import db
from core.i18n import jalali_month_of, jalali_month_utc_range
from core.money import parse_money
from modules.sales.models.documents import Invoice
from modules.sales.models.pipeline import Deal
from modules.sales.models.targets import SalesTarget

MAX_TARGET = 10**15  # rials; anything above is a typing mistake
LEADERBOARD_SIZE = 5


class TargetError(ValueError):
    """A target could not be saved; ``errors`` maps each field (``target-<user id>``) to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


# --- periods -------------------------------------------------------------------------------

def _index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    """Whole Jalali months from ``first`` to ``last`` (inclusive), as (year, month) pairs."""

    first: tuple[int, int]
    last: tuple[int, int]

    def __post_init__(self):
        if _index(*self.last) < _index(*self.first):
            first, last = self.last, self.first
            object.__setattr__(self, "first", first)
            object.__setattr__(self, "last", last)

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        return cls((year, month), (year, month))

    @classmethod
    def current(cls, now: datetime | None = None) -> "Period":
        from core.database import utcnow

        return cls.month(*jalali_month_of(now or utcnow()))

    @property
    def single(self) -> bool:
        return self.first == self.last

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """UTC instants: ``start <= ts < end``."""
        return jalali_month_utc_range(*self.first)[0], jalali_month_utc_range(*self.last)[1]

    def shifted(self, months: int) -> "Period":
        """The period of the same length ``months`` months later (earlier when negative)."""
        return Period(_month(_index(*self.first) + months), _month(_index(*self.last) + months))

    @property
    def length(self) -> int:
        return _index(*self.last) - _index(*self.first) + 1


# --- scope ---------------------------------------------------------------------------------

def people_scope(stmt: Select, viewer=None) -> Select:
    """Limit a statement over ``User`` to the people whose numbers ``viewer`` may see."""
    viewer = viewer if viewer is not None else current_user
    if not getattr(viewer, "is_authenticated", False):
        return stmt.where(false())
    scope = viewer.role.scope_for("sales") if viewer is not current_user \
        else current_scope("sales")
    if scope == "all":
        return stmt
    if scope == "team" and viewer.team_id is not None:
        return stmt.where(or_(User.id == viewer.id, User.team_id == viewer.team_id))
    return stmt.where(User.id == viewer.id)


def visible_user_ids(viewer=None) -> Select:
    return people_scope(select(User.id), viewer)


def salespeople(viewer=None) -> list[User]:
    """The active users with a sales seat that ``viewer`` may see, by name."""
    stmt = people_scope(select(User).where(
        User.active.is_(True),
        User.id.in_(select(Seat.user_id).where(Seat.module == "sales"))), viewer)
    return list(db.session.execute(stmt.order_by(User.name, User.email)).scalars())


# --- figures -------------------------------------------------------------------------------

@dataclass
class Figures:
    """One person's (or team's) figures for a period; amounts in rials."""

    target: int = 0
    achieved: int = 0
    won: int = 0
    lost: int = 0
    won_value: int = 0
    cycle_seconds: float = 0.0  # sum over the won deals

    @property
    def percent(self) -> int | None:
        """Achieved as a whole percent of the target; None without a target."""
        return None if self.target <= 0 else int(self.achieved * 100 // self.target)

    @property
    def win_rate(self) -> int | None:
        """Won / (won + lost) as a whole percent (rounded); None when nothing was closed."""
        closed = self.won + self.lost
        return None if not closed else round(self.won * 100 / closed)

    @property
    def average_won(self) -> int | None:
        return None if not self.won else round(self.won_value / self.won)

    @property
    def cycle_days(self) -> float | None:
        """Average days from creation to win, to one decimal."""
        return None if not self.won else round(self.cycle_seconds / self.won / 86400, 1)

    def add(self, other: "Figures") -> None:
        for name in ("target", "achieved", "won", "lost", "won_value", "cycle_seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PersonRow:
    user: User
    figures: Figures
    rank: int = 0


@dataclass
class TeamRow:
    team_id: int | None
    name: str
    figures: Figures = field(default_factory=Figures)
    people: int = 0


@dataclass
class Performance:
    period: Period
    people: list[PersonRow]
    teams: list[TeamRow]
    total: Figures


def _seconds(later, earlier):
    """SQL: seconds between two timestamp columns (SQLite and PostgreSQL)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _achieved(period: Period, people) -> dict[int, int]:
    start, end = period.bounds
    owner = func.coalesce(Invoice.owner_id, Invoice.created_by_id)
    signed = case((Invoice.kind == "credit_note", -Invoice.total), else_=Invoice.total)
    rows = db.session.execute(
        select(owner, func.sum(signed))
        .where(Invoice.status == "posted", Invoice.posted_at >= start,
               Invoice.posted_at < end, owner.in_(people))
        .group_by(owner))
    return {uid: int(total or 0) for uid, total in rows}


def _deals(period: Period, people) -> dict[int, tuple]:
    start, end = period.bounds
    won = Deal.status == "won"
    rows = db.session.execute(
        select(Deal.owner_id,
               func.sum(case((won, 1), else_=0)),
               func.sum(case((won, 0), else_=1)),
               func.sum(case((won, Deal.value), else_=0)),
               func.sum(case((won, _seconds(Deal.closed_at, Deal.created_at)), else_=None)))
        .where(Deal.status.in_(("won", "lost")), Deal.closed_at >= start,
               Deal.closed_at < end, Deal.owner_id.in_(people))
        .group_by(Deal.owner_id))
    return {uid: (int(w or 0), int(lost or 0), int(value or 0), float(secs or 0))
            for uid, w, lost, value, secs in rows}


def _targets(period: Period, people) -> dict[int, int]:
    index = SalesTarget.year * 12 + SalesTarget.month - 1
    rows = db.session.execute(
        select(SalesTarget.user_id, func.sum(SalesTarget.amount))
        .where(index >= _index(*period.first), index <= _index(*period.last),
               SalesTarget.user_id.in_(people))
        .group_by(SalesTarget.user_id))
    return {uid: int(amount or 0) for uid, amount in rows}


def performance(period: Period, viewer=None) -> Performance:
    """Every visible person's figures for ``period``, ranked by achieved (the leaderboard
    order: achieved, then won value, then name), with team and overall totals."""
    people = visible_user_ids(viewer)
    achieved, deals, targets = _achieved(period, people), _deals(period, people), \
        _targets(period, people)
    ids = set(achieved) | set(deals) | set(targets) | {u.id for u in salespeople(viewer)}
    ids.discard(None)
    users = list(db.session.execute(select(User).where(User.id.in_(ids))).scalars()) \
        if ids else []
    rows = []
    for user in users:
        won, lost, value, seconds = deals.get(user.id, (0, 0, 0, 0.0))
        rows.append(PersonRow(user, Figures(targets.get(user.id, 0), achieved.get(user.id, 0),
                                            won, lost, value, seconds)))
    rows.sort(key=lambda r: (-r.figures.achieved, -r.figures.won_value,
                             r.user.name or r.user.email, r.user.id))
    teams: dict[int | None, TeamRow] = {}
    total = Figures()
    for rank, row in enumerate(rows, 1):
        row.rank = rank
        team = teams.setdefault(row.user.team_id, TeamRow(
            row.user.team_id, row.user.team.name if row.user.team else ""))
        team.figures.add(row.figures)
        team.people += 1
        total.add(row.figures)
    team_rows = sorted(teams.values(), key=lambda t: (-t.figures.achieved, t.team_id is None,
                                                      t.name))
    return Performance(period, rows, team_rows, total)


def leaderboard(period: Period | None = None, limit: int = LEADERBOARD_SIZE,
                viewer=None) -> list[PersonRow]:
    """The top ``limit`` visible people of the period (this Jalali month by default)."""
    return performance(period or Period.current(), viewer).people[:limit]


def my_month(user, period: Period | None = None) -> tuple[Figures, int]:
    """``user``'s figures this Jalali month and the value of their open deals (rials)."""
    period = period or Period.current()
    me = select(User.id).where(User.id == user.id)
    won, lost, value, seconds = _deals(period, me).get(user.id, (0, 0, 0, 0.0))
    figures = Figures(_targets(period, me).get(user.id, 0),
                      _achieved(period, me).get(user.id, 0), won, lost, value, seconds)
    open_value = db.session.execute(
        select(func.coalesce(func.sum(Deal.value), 0))
        .where(Deal.owner_id == user.id, Deal.status == "open")).scalar()
    return figures, int(open_value or 0)


# --- targets -------------------------------------------------------------------------------

def targets_for(year: int, month: int, user_ids) -> dict[int, int]:
    """{user id: target in rials} of one Jalali month."""
    rows = db.session.execute(select(SalesTarget.user_id, SalesTarget.amount).where(
        SalesTarget.year == year, SalesTarget.month == month,
        SalesTarget.user_id.in_(list(user_ids))))
    return dict(rows.all())


def set_target(user_id: int, year: int, month: int, amount: int | None) -> SalesTarget | None:
    """Set (or, with None, remove) one person's target for one Jalali month.

    One row per person and month: setting it again updates the row.
    """
    if not 1 <= month <= 12 or not 1200 < year < 1600:
        raise TargetError({"month": _("Choose a month.")})
    if amount is not None and not 0 <= amount <= MAX_TARGET:
        raise TargetError({f"target-{user_id}": _("A target cannot be negative.")
                           if amount < 0 else _("This target is too large.")})
    target = db.session.execute(select(SalesTarget).where(
        SalesTarget.user_id == user_id, SalesTarget.year == year,
        SalesTarget.month == month)).scalar()
    if amount is None:
        if target is not None:
            db.session.delete(target)
        db.session.flush()
        return None
    if target is None:
        target = SalesTarget(user_id=user_id, year=year, month=month, amount=amount)
        db.session.add(target)
    elif target.amount != amount:
        target.amount = amount
    db.session.flush()
    return target


def save_targets(year: int, month: int, typed: dict[int, str], unit: str | None = None,
                 viewer=None) -> int:
    """Set the month's targets from typed amounts ({user id: text in ``unit``, any digits});
    an empty text removes the target. Only people in ``viewer``'s scope may be given one.

    All or nothing: raises ``TargetError`` with every bad field. Returns how many changed.
    """
    allowed = set(db.session.execute(visible_user_ids(viewer)).scalars())
    errors: dict[str, str] = {}
    amounts: dict[int, int | None] = {}
    for user_id, text in typed.items():
        key = f"target-{user_id}"
        if user_id not in allowed:
            errors[key] = _("You cannot set this person's target.")
            continue
        text = (text or "").strip()
        if not text:
            amounts[user_id] = None
            continue
        try:
            amount = parse_money(text, unit)
        except ValueError as exc:
            errors[key] = str(exc)
            continue
        if amount < 0:
            errors[key] = _("A target cannot be negative.")
        elif amount > MAX_TARGET:
            errors[key] = _("This target is too large.")
        else:
            amounts[user_id] = amount
    if errors:
        raise TargetError(errors)
    before = targets_for(year, month, amounts)
    changed = 0
    for user_id, amount in amounts.items():
        if before.get(user_id) != amount:
            set_target(user_id, year, month, amount)
            changed += 1
    return changed
