"""Leads: people who showed interest but are not (yet) customers, their activity and score."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

STATUSES = ("new", "working", "qualified", "converted", "disqualified")
SOURCES = ("form", "import", "api", "manual", "campaign")
ACTIVITY_KINDS = ("created", "form", "open", "click", "visit", "note", "score", "assigned",
                  "status", "converted")


class Lead(db.Model):
    """One prospect with where they came from (source, UTM) and a score from the rules.

    ``owner_id``/``team_id`` drive record scope; ``customer_id`` is set on conversion and
    ``deal_id`` (a sales deal, no FK: sales is optional) when a deal was opened from it.
    """

    __tablename__ = "marketing_lead"
    __table_args__ = (Index("ix_marketing_lead_status_score", "status", "score", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200), index=True)  # canonical
    mobile: Mapped[str | None] = mapped_column(String(16), index=True)  # canonical +989...
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(120), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    source: Mapped[str] = mapped_column(String(12), default="manual")
    utm_source: Mapped[str] = mapped_column(String(120), default="")
    utm_medium: Mapped[str] = mapped_column(String(120), default="")
    utm_campaign: Mapped[str] = mapped_column(String(120), default="")
    utm_term: Mapped[str] = mapped_column(String(120), default="")
    utm_content: Mapped[str] = mapped_column(String(120), default="")
    form_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_form.id", ondelete="SET NULL"))
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_campaign.id", ondelete="SET NULL"), index=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(14), default="new")
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_customer.id", ondelete="SET NULL"), index=True)
    deal_id: Mapped[int | None] = mapped_column(Integer)
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str] = mapped_column(Text, default="")
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    search_key: Mapped[str] = mapped_column(Text, default="")
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    activities: Mapped[list["LeadActivity"]] = relationship(
        back_populates="lead", order_by="(LeadActivity.at, LeadActivity.id)",
        cascade="all, delete-orphan")


class LeadActivity(db.Model):
    """Something a lead did or that happened to it, with the points it earned."""

    __tablename__ = "marketing_lead_activity"
    __table_args__ = (Index("ix_marketing_lead_activity_lead_at", "lead_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("marketing_lead.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    points: Mapped[int] = mapped_column(Integer, default=0)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    lead: Mapped[Lead] = relationship(back_populates="activities")


class ScoringRule(db.Model):
    """Points for a profile fact (``field`` ``op`` ``value``) or a behaviour (``event``)."""

    __tablename__ = "marketing_scoring_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10), default="profile")  # profile | behaviour
    field: Mapped[str] = mapped_column(String(60), default="")  # profile: lead field
    op: Mapped[str] = mapped_column(String(12), default="eq")  # eq|contains|set|in
    value: Mapped[str] = mapped_column(String(200), default="")
    event: Mapped[str] = mapped_column(String(12), default="")  # behaviour: activity kind
    points: Mapped[int] = mapped_column(Integer, default=0)
    max_times: Mapped[int | None] = mapped_column(Integer)  # behaviour: cap per lead
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AssignmentRule(db.Model):
    """New leads matching ``field`` = ``value`` (or every lead when empty) go to a user/team."""

    __tablename__ = "marketing_assignment_rule"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(60), default="")
    value: Mapped[str] = mapped_column(String(200), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
