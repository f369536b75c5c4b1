"""The points ledger: immutable entries, the lots earned points form, and what used them.

Every change of points is one ``Entry`` in one bucket: ``pending`` (earned, waiting for the
return window) or ``available``. A member's ``balance`` is the sum of their available entries
and ``pending`` the sum of their pending ones. Points earned form a ``Lot`` with an expiry
date; redeeming, expiring and reversing take points from lots (oldest expiry first) and each
take is a ``LotUse``, so the ledger can always say which lots a redemption spent.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

ENTRY_KINDS = ("earn", "release", "redeem", "expire", "adjust", "reverse")
BUCKETS = ("pending", "available")
LOT_STATUSES = ("pending", "available", "used", "expired", "reversed")


class Entry(db.Model):
    """One immutable change of a member's points, with its reason and reference."""

    __tablename__ = "loyalty_entry"
    __table_args__ = (Index("ix_loyalty_entry_member", "member_id", "id"),)
    __audit__ = False  # the ledger is itself the audit trail
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_member.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), index=True)  # one of ENTRY_KINDS
    bucket: Mapped[str] = mapped_column(String(10), default="available")
    points: Mapped[int] = mapped_column(BigInteger)  # signed
    reason: Mapped[str] = mapped_column(String(300), default="")
    reference: Mapped[str] = mapped_column(String(100), default="", index=True)
    # Makes an automatic entry happen once (``earn:sales.invoice:12``, ``expire:lot:7``...)
    key: Mapped[str | None] = mapped_column(String(150), unique=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_rule.id", ondelete="SET NULL"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_entry.id"), index=True)
    balance_after: Mapped[int] = mapped_column(BigInteger, default=0)  # available, after it
    pending_after: Mapped[int] = mapped_column(BigInteger, default=0)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # rials spent, for earn entries
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)

    member = relationship("Member")


class Lot(db.Model):
    """Points earned together: pending until ``available_on``, spendable until ``expires_on``."""

    __tablename__ = "loyalty_lot"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="ck_loyalty_lot_remaining"),
        CheckConstraint("remaining <= points", name="ck_loyalty_lot_points"),
        Index("ix_loyalty_lot_spend", "member_id", "status", "expires_on", "id"),
        Index("ix_loyalty_lot_due", "status", "expires_on"),
    )
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("loyalty_member.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entry.id"), unique=True)
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="available")
    earned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    available_on: Mapped[date] = mapped_column(Date, index=True)
    expires_on: Mapped[date | None] = mapped_column(Date)  # null: never expires
    reference: Mapped[str] = mapped_column(String(100), default="", index=True)
    # the day the member was told these points will expire (set once: the warning is sent once)
    warned_on: Mapped[date | None] = mapped_column(Date)

    entry = relationship("Entry")


class LotUse(db.Model):
    """Points one entry (redeem, expire, reverse, release) took from one lot."""

    __tablename__ = "loyalty_lot_use"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_entry.id", ondelete="CASCADE"),
                                          index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("loyalty_lot.id", ondelete="CASCADE"),
                                        index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer, default=0)

    lot = relationship("Lot")
