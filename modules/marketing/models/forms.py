"""Lead capture forms: a hosted page and an embeddable snippet, and what was submitted."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

FIELDS = ("name", "email", "mobile", "company", "job_title", "city", "message")


class LeadForm(db.Model):
    """A form with chosen ``fields`` (each {"name", "required"}); ``key`` is its public id."""

    __tablename__ = "marketing_form"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    key: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    intro: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    consent_text: Mapped[str] = mapped_column(String(300), default="")
    thanks_message: Mapped[str] = mapped_column(Text, default="")
    allowed_origins: Mapped[str] = mapped_column(Text, default="")  # embed: one per line
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_campaign.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FormSubmission(db.Model):
    """One submission, kept as sent (the lead holds the normalised values)."""

    __tablename__ = "marketing_form_submission"
    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_form.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_lead.id", ondelete="SET NULL"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    utm: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    page_url: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
