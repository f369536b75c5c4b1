"""The purchases fact (every purchase from every source) and the per-customer scores."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

SOURCES = ("sales", "import", "api", "pos")


class Purchase(db.Model):
    """One purchase: who, when (UTC), how much (integer rials), from where; append-only."""

    __tablename__ = "core_purchase"
    __audit__ = False  # a high-volume fact table; the sender of each purchase audits its source
    __table_args__ = (Index("ix_core_purchase_customer_occurred", "customer_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core_customer.id", ondelete="CASCADE"),
                                             index=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="IRR")
    source: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(120), default="")
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_dict(self) -> dict:
        return {"id": self.id, "customer_id": self.customer_id,
                "occurred_at": self.occurred_at, "amount": self.amount,
                "currency": self.currency, "source": self.source,
                "reference": self.reference, "key": self.idempotency_key}


class CustomerScore(db.Model):
    """A customer's RFM scores, segment and lifetime-value predictions at the last recompute."""

    __tablename__ = "core_customer_score"
    __audit__ = False  # rewritten in bulk by the recompute job

    customer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    recency_days: Mapped[int] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer)  # days with a purchase
    monetary: Mapped[int] = mapped_column(BigInteger)  # total spend, rials
    r_score: Mapped[int] = mapped_column(SmallInteger)
    f_score: Mapped[int] = mapped_column(SmallInteger)
    m_score: Mapped[int] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(24), index=True)
    p_alive: Mapped[float | None] = mapped_column(Float)
    expected_purchases_90d: Mapped[float | None] = mapped_column(Float)
    predicted_value_90d: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[float | None] = mapped_column(Float, index=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
