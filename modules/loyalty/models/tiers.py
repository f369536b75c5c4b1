"""Tiers (برنزی، نقره‌ای، طلایی): thresholds, benefits, and the history of changes."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

TIER_CHANGE_STATUSES = ("scheduled", "done", "cancelled")


class Tier(db.Model):
    """A level of the club; a member qualifies by points earned or by spend over the window."""

    __tablename__ = "loyalty_tier"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)  # e.g. gold; the SLA class too
    name_fa: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    rank: Mapped[int] = mapped_column(Integer, default=0, index=True)  # higher is better
    min_points: Mapped[int | None] = mapped_column(BigInteger)  # points earned in the window
    min_spend: Mapped[int | None] = mapped_column(BigInteger)  # rials spent in the window
    multiplier_bp: Mapped[int] = mapped_column(Integer, default=10000)  # 10000 = ×1
    discount_bp: Mapped[int] = mapped_column(Integer, default=0)  # on quotes, 100 = 1%
    sla_class: Mapped[str] = mapped_column(String(30), default="")  # service SLA tier
    color: Mapped[str] = mapped_column(String(20), default="secondary")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TierChange(db.Model):
    """An upgrade (done at once) or a downgrade (scheduled with notice, then done)."""

    __tablename__ = "loyalty_tier_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_member.id", ondelete="CASCADE"), index=True)
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id"))
    to_tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id"))
    direction: Mapped[str] = mapped_column(String(4))  # up | down
    status: Mapped[str] = mapped_column(String(10), default="done", index=True)
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    notice_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    member = relationship("Member")
    from_tier = relationship("Tier", foreign_keys=[from_tier_id])
    to_tier = relationship("Tier", foreign_keys=[to_tier_id])
