"""Club members: one per customer, with a card number, a referral code and cached balances.

``balance`` (available points) and ``pending`` (points waiting for their return window) are
caches of the ledger: ``modules.loyalty.ledger`` changes them only together with the entries
they sum, and both are never below zero (the database refuses it too).
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

MEMBER_STATUSES = ("active", "opted_out")
ENROL_CHANNELS = ("purchase", "manual", "import", "api", "referral", "portal")


class Member(db.Model):
    """A customer who belongs to the club."""

    __tablename__ = "loyalty_member"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="ck_loyalty_member_balance"),
        CheckConstraint("pending >= 0", name="ck_loyalty_member_pending"),
    )
    __audit__ = False  # balances move on every purchase; the ledger is the audit trail
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), unique=True)
    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    referral_code: Mapped[str] = mapped_column(String(12), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_member.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    enrolled_via: Mapped[str] = mapped_column(String(10), default="manual")
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                  index=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # owner and team follow the customer's, for record scope
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id"), index=True)
    tier_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    pending: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_earned: Mapped[int] = mapped_column(BigInteger, default=0)
    lifetime_redeemed: Mapped[int] = mapped_column(BigInteger, default=0)
    last_activity_on: Mapped[date | None] = mapped_column(Date, index=True)

    customer = relationship("Customer", lazy="joined")
    tier = relationship("Tier", lazy="joined")
    referred_by = relationship("Member", remote_side=[id])
