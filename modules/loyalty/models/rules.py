"""Earning rules: what earns points, under which conditions, with which limits."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

# spend: points per ``per_amount`` rials spent (the base rule);
# category: multiplies the spend points of lines in ``category_id``;
# first_purchase / birthday / anniversary / referral: a fixed ``bonus_points``;
# window: multiplies spend points between ``starts_on`` and ``ends_on`` (Nowruz week).
RULE_KINDS = ("spend", "category", "first_purchase", "birthday", "anniversary", "referral",
              "window")


class Rule(db.Model):
    """One earning rule; tier multipliers come from the tiers themselves."""

    __tablename__ = "loyalty_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)  # per ``per_amount``, or bonus
    per_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # rials (spend rules)
    multiplier_bp: Mapped[int] = mapped_column(Integer, default=10000)
    category_id: Mapped[int | None] = mapped_column(Integer)  # sales product category
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id",
                                                           ondelete="SET NULL"))
    min_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # purchase at least
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    cap_per_day: Mapped[int | None] = mapped_column(BigInteger)  # points per member per day
    cap_per_member: Mapped[int | None] = mapped_column(BigInteger)  # points per member, ever
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
