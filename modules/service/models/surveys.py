"""Satisfaction: CSAT after a ticket closes, NPS surveys sent to a segment."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class NpsSurvey(db.Model):
    """One NPS round sent to the customers of a segment."""

    __tablename__ = "service_nps_survey"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    segment: Mapped[str] = mapped_column(String(60), default="")  # RFM segment or "" for all
    channel: Mapped[str] = mapped_column(String(8), default="sms")  # sms | email
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft|sending|sent
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SurveyResponse(db.Model):
    """A CSAT (1-5) or NPS (0-10) request and, once answered, the answer.

    The link carries a random token; only its hash is stored. It answers once.
    """

    __tablename__ = "service_survey_response"
    __table_args__ = (Index("ix_service_survey_kind_answered", "kind", "answered_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))  # csat | nps
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_ticket.id", ondelete="CASCADE"), unique=True)
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_nps_survey.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_category.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(8), default="email")
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
