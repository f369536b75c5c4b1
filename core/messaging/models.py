"""Delivery log of every email and SMS, and the opt-out list every sender honours."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

CHANNELS = ("email", "sms")
LOG_STATUSES = ("queued", "sent", "delivered", "failed", "suppressed")


class MessageLog(db.Model):
    """One email or SMS: to whom, what, and how far it got (queued → sent → delivered)."""

    __tablename__ = "core_message_log"
    __audit__ = False  # high volume; the log itself is the record
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), index=True)
    to: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str | None] = mapped_column(String(300))
    preview: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    provider_id: Mapped[str | None] = mapped_column(String(200), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    customer_key: Mapped[str | None] = mapped_column(String(100), index=True)
    outbox_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), onupdate=utcnow)


class OptOut(db.Model):
    """An address (canonical form) that must not receive messages on a channel."""

    __tablename__ = "core_opt_out"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
