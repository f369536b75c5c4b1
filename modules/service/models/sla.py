"""Business-hours calendars, holidays, SLA policies and escalation rules."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

# Python weekday numbers (Monday=0 ... Sunday=6) -> list of [start_minute, end_minute) spans.
# Iranian default: Saturday-Wednesday 8:00-17:00, Thursday 8:00-13:00, Friday closed.
DEFAULT_HOURS = {
    "5": [[480, 1020]], "6": [[480, 1020]], "0": [[480, 1020]], "1": [[480, 1020]],
    "2": [[480, 1020]], "3": [[480, 780]], "4": [],
}
TRIGGERS = ("first_response_warning", "first_response_breach", "resolution_warning",
            "resolution_breach")
ACTIONS = ("notify", "reassign", "raise_priority")


class Calendar(db.Model):
    """Working hours per weekday in a time zone, plus the holidays attached to it."""

    __tablename__ = "service_calendar"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(60), default="Asia/Tehran")
    hours: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_HOURS))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    holidays: Mapped[list["Holiday"]] = relationship(
        back_populates="calendar", order_by="Holiday.day", cascade="all, delete-orphan")


class Holiday(db.Model):
    """An official holiday (a whole local day off) in one calendar."""

    __tablename__ = "service_holiday"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("service_calendar.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)  # Gregorian date of the local (Tehran) day
    name: Mapped[str] = mapped_column(String(200), default="")

    calendar: Mapped[Calendar] = relationship(back_populates="holidays")


class SlaPolicy(db.Model):
    """Targets in business minutes for tickets that match priority / customer class / tier.

    Empty match fields match anything; the most specific active policy wins, then ``position``.
    ``customer_tag_id`` is the customer class (e.g. a "VIP" tag); ``loyalty_tier`` is used only
    while the loyalty module is active.
    """

    __tablename__ = "service_sla_policy"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    priority: Mapped[str] = mapped_column(String(8), default="")
    customer_tag_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_tag.id", ondelete="SET NULL"))
    loyalty_tier: Mapped[str] = mapped_column(String(60), default="")
    first_response_minutes: Mapped[int] = mapped_column(Integer, default=240)
    resolution_minutes: Mapped[int] = mapped_column(Integer, default=2880)
    warn_percent: Mapped[int] = mapped_column(SmallInteger, default=80)
    calendar_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_calendar.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    calendar: Mapped[Calendar | None] = relationship(lazy="joined")


class EscalationRule(db.Model):
    """When a ticket reaches a warning or a breach: notify someone, reassign, raise priority."""

    __tablename__ = "service_escalation_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    trigger: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(16), default="notify")
    priority: Mapped[str] = mapped_column(String(8), default="")  # only tickets of this priority
    target_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"))
    target_team_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_team.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class EscalationFired(db.Model):
    """A rule has fired for a ticket: the unique key makes each rule fire once per ticket."""

    __tablename__ = "service_escalation_fired"
    __table_args__ = (UniqueConstraint("rule_id", "ticket_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("service_escalation_rule.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("service_ticket.id", ondelete="CASCADE"), index=True)
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
