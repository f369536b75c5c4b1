"""The outbox table: messages to deliver to the outside world, with their delivery state."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

STATUSES = ("pending", "delivered", "dead")


class OutboxMessage(db.Model):
    """One message to deliver: pending until a handler delivers it, dead after too many tries."""

    __tablename__ = "core_outbox"
    __audit__ = False  # technical, high volume; admin retries are audited explicitly
    __table_args__ = (Index("ix_core_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[Any] = mapped_column(JSON)
    aggregate: Mapped[str | None] = mapped_column(String(200), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A relay that claims a message owns it until claimed_until (a lease, so a crashed relay's
    # claim runs out); the claim token makes sure only that relay records the outcome.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.kind} {self.status}>"
