"""Rewards (coupons, gift products, gift cards), redemptions and the coupon codes they give."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

REWARD_KINDS = ("coupon", "gift_product", "gift_card")
COUPON_STATUSES = ("issued", "used", "void")
REDEMPTION_CHANNELS = ("staff", "portal", "api")


class Reward(db.Model):
    """Something members buy with points."""

    __tablename__ = "loyalty_reward"
    __table_args__ = (CheckConstraint("stock IS NULL OR stock >= 0",
                                      name="ck_loyalty_reward_stock"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(15))
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    cost_points: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    stock: Mapped[int | None] = mapped_column(Integer)  # null: unlimited (coupons)
    min_tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id",
                                                               ondelete="SET NULL"))
    # coupon: percent_bp (100 = 1%) capped by max_discount, or a fixed amount (rials)
    percent_bp: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # coupon rials, gift card value
    max_discount: Mapped[int | None] = mapped_column(BigInteger)
    min_purchase: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_days: Mapped[int] = mapped_column(Integer, default=90)
    product_id: Mapped[int | None] = mapped_column(Integer)  # gift product (sales product)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    min_tier = relationship("Tier", lazy="joined")


class Redemption(db.Model):
    """A member bought a reward with points (one redeem ledger entry)."""

    __tablename__ = "loyalty_redemption"
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_member.id", ondelete="CASCADE"), index=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("loyalty_reward.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entry.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    channel: Mapped[str] = mapped_column(String(10), default="staff")
    status: Mapped[str] = mapped_column(String(10), default="done")  # done | cancelled
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_coupon.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)

    reward = relationship("Reward", lazy="joined")
    coupon = relationship("Coupon")
    member = relationship("Member")
    created_by = relationship("User")


class Coupon(db.Model):
    """A code a sales quote accepts: a discount, or a gift card's remaining value."""

    __tablename__ = "loyalty_coupon"
    __table_args__ = (CheckConstraint("balance >= 0", name="ck_loyalty_coupon_balance"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[str] = mapped_column(String(15))  # percent | amount | gift_card
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_reward.id"))
    percent_bp: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)
    max_discount: Mapped[int | None] = mapped_column(BigInteger)
    min_purchase: Mapped[int] = mapped_column(BigInteger, default=0)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)  # gift cards
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="issued", index=True)
    used_on: Mapped[str] = mapped_column(String(60), default="")  # e.g. sales.quote:12
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    reward = relationship("Reward")
    customer = relationship("Customer")


class CouponUse(db.Model):
    """A coupon (or part of a gift card) taken by a document, e.g. ``sales.quote:12``.

    ``released_at`` is set when the document gives it back (the coupon removed, the quote
    cancelled or rejected); a gift card then gets ``amount`` back on its balance.
    """

    __tablename__ = "loyalty_coupon_use"
    __table_args__ = (CheckConstraint("amount >= 0", name="ck_loyalty_coupon_use_amount"),
                      Index("ix_loyalty_coupon_use_reference", "reference", "released_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("loyalty_coupon.id", ondelete="CASCADE"),
                                           index=True)
    reference: Mapped[str] = mapped_column(String(60))
    amount: Mapped[int] = mapped_column(BigInteger)  # rials of discount it gave
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    coupon = relationship("Coupon", lazy="joined")
