"""Club reports: members, activity, earn and burn by Jalali month, outstanding points and
their liability, tier distribution, rewards redeemed.

All figures come from the ledger and the member table; a month is a Jalali month in Tehran
time. "Active" members earned or spent points in the period.
"""

from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from core.database import utcnow
from core.extensions import db
from core.i18n import jalali_month_of, jalali_month_utc_range
from modules.loyalty.ledger import club_settings
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.members import Member
from modules.loyalty.models.rewards import Redemption, Reward
from modules.loyalty.models.tiers import Tier

PERIODS = (3, 6, 12, 24)  # months offered, ending with the current Jalali month


def last_months(count: int, now=None) -> list[tuple[int, int]]:
    """The last ``count`` Jalali months, oldest first, ending with the current one."""
    year, month = jalali_month_of(now or utcnow())
    index = year * 12 + month - 1
    return [(i // 12, i % 12 + 1) for i in range(index - count + 1, index + 1)]


@dataclass
class Month:
    """Points moved in one Jalali month (burn = redeemed + expired + reversed)."""

    month: tuple[int, int]
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    reversed: int = 0
    active: int = 0

    @property
    def burned(self) -> int:
        return self.redeemed + self.expired + self.reversed


@dataclass
class Summary:
    members: int
    opted_out: int
    active: int
    balance: int
    pending: int
    point_value: int
    months: list[Month] = field(default_factory=list)

    @property
    def outstanding(self) -> int:
        return self.balance + self.pending

    @property
    def liability(self) -> int:
        """What the outstanding points are worth, in rials."""
        return self.outstanding * self.point_value


_EARNED = case((Entry.kind == "earn", Entry.points),
               ((Entry.kind == "adjust") & (Entry.points > 0), Entry.points), else_=0)
_REDEEMED = case((Entry.kind == "redeem", -Entry.points),
                 ((Entry.kind == "adjust") & (Entry.points < 0), -Entry.points), else_=0)
_EXPIRED = case((Entry.kind == "expire", -Entry.points), else_=0)
_REVERSED = case((Entry.kind == "reverse", -Entry.points), else_=0)
_MOVES = Entry.kind.in_(("earn", "redeem", "adjust", "expire", "reverse"))


def month_figures(months: list[tuple[int, int]]) -> list[Month]:
    """Earned, redeemed, expired and reversed points, and active members, per month."""
    found = []
    for month in months:
        start, end = jalali_month_utc_range(*month)
        earned, redeemed, expired, reversed_, active = db.session.execute(
            select(func.coalesce(func.sum(_EARNED), 0), func.coalesce(func.sum(_REDEEMED), 0),
                   func.coalesce(func.sum(_EXPIRED), 0), func.coalesce(func.sum(_REVERSED), 0),
                   func.count(func.distinct(case((Entry.kind.in_(("earn", "redeem")),
                                                  Entry.member_id)))))
            .where(_MOVES, Entry.created_at >= start, Entry.created_at < end)).one()
        found.append(Month(month, int(earned), int(redeemed), int(expired), int(reversed_),
                           int(active)))
    return found


def summary(months: list[tuple[int, int]]) -> Summary:
    members, opted_out, balance, pending = db.session.execute(select(
        func.count(Member.id),
        func.coalesce(func.sum(case((Member.status == "opted_out", 1), else_=0)), 0),
        func.coalesce(func.sum(Member.balance), 0), func.coalesce(func.sum(Member.pending), 0),
    )).one()
    start = jalali_month_utc_range(*months[0])[0]
    end = jalali_month_utc_range(*months[-1])[1]
    active = db.session.scalar(select(func.count(func.distinct(Entry.member_id))).where(
        Entry.kind.in_(("earn", "redeem")), Entry.created_at >= start, Entry.created_at < end))
    return Summary(int(members), int(opted_out), int(active or 0), int(balance), int(pending),
                   club_settings().point_value, month_figures(months))


def tier_distribution() -> list[tuple[Tier | None, int, int]]:
    """(tier or None for no tier, active members, their points), best tier first."""
    rows = db.session.execute(
        select(Member.tier_id, func.count(Member.id), func.coalesce(func.sum(Member.balance), 0))
        .where(Member.status == "active").group_by(Member.tier_id)).all()
    tiers = {t.id: t for t in db.session.execute(select(Tier)).scalars()}
    found = [(tiers.get(tier_id), int(count), int(points)) for tier_id, count, points in rows]
    return sorted(found, key=lambda row: -(row[0].rank if row[0] else -1))


def rewards_redeemed(months: list[tuple[int, int]]) -> list[tuple[Reward, int, int]]:
    """(reward, redemptions, points) in the period, most redeemed first."""
    start = jalali_month_utc_range(*months[0])[0]
    end = jalali_month_utc_range(*months[-1])[1]
    rows = db.session.execute(
        select(Redemption.reward_id, func.count(Redemption.id),
               func.coalesce(func.sum(Redemption.points), 0))
        .where(Redemption.status == "done", Redemption.created_at >= start,
               Redemption.created_at < end)
        .group_by(Redemption.reward_id)).all()
    rewards = {r.id: r for r in db.session.execute(
        select(Reward).where(Reward.id.in_([row[0] for row in rows]))).scalars()}
    found = [(rewards[reward_id], int(count), int(points)) for reward_id, count, points in rows]
    return sorted(found, key=lambda row: (-row[1], row[0].id))
