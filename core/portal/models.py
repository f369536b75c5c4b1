"""One-time sign-in codes for the customer portal (only a keyed hash is stored)."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class PortalCode(db.Model):
    """A 6-digit code sent to a customer's mobile or email; valid once, for a few minutes."""

    __tablename__ = "core_portal_code"
    __audit__ = False  # a hash and counters; the sign-in itself is audited
    __table_args__ = (Index("ix_core_portal_code_destination", "destination", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    destination: Mapped[str] = mapped_column(String(320))  # canonical mobile or email
    code_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 with SECRET_KEY
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
