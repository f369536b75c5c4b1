"""Automations: welcome series, birthday/anniversary, occasions (Nowruz, Yalda), win-back."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

KINDS = ("welcome", "birthday", "anniversary", "occasion", "winback")


class Automation(db.Model):
    """A rule that sends a message by itself; ``step`` orders the messages of a series.

    ``delay_days``: welcome — days after the customer was created; winback — days between
    two messages to the same customer. ``occasion_month``/``occasion_day``: a Jalali date.
    """

    __tablename__ = "marketing_automation"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(6), default="sms")
    step: Mapped[int] = mapped_column(SmallInteger, default=1)
    delay_days: Mapped[int] = mapped_column(Integer, default=0)
    occasion_month: Mapped[int | None] = mapped_column(SmallInteger)
    occasion_day: Mapped[int | None] = mapped_column(SmallInteger)
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_segment.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(250), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AutomationSend(db.Model):
    """What an automation sent to whom; ``period`` (e.g. the Jalali year) keeps it once."""

    __tablename__ = "marketing_automation_send"
    __table_args__ = (UniqueConstraint("automation_id", "customer_id", "period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    automation_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_automation.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(20), default="")
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="sent")  # sent|suppressed|failed
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
