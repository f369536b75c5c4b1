"""Campaigns by email or SMS, their recipients (one row per customer: sent once), links and
tracking events."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

CHANNELS = ("email", "sms")
STATUSES = ("draft", "scheduled", "testing", "sending", "paused", "sent", "cancelled")
RECIPIENT_STATUSES = ("pending", "queued", "sent", "delivered", "failed", "bounced",
                      "suppressed", "skipped")


class Campaign(db.Model):
    """A message to a segment. Content may hold ``{{ first_name }}``-style fields (sandboxed).

    A/B: variant B's subject/text go to ``ab_percent`` of the audience split in two halves;
    after ``ab_wait_hours`` the variant with the better ``ab_metric`` goes to the rest.
    """

    __tablename__ = "marketing_campaign"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    channel: Mapped[str] = mapped_column(String(6), default="email")
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_segment.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    subject: Mapped[str] = mapped_column(String(250), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")  # email text part or the SMS
    body_html: Mapped[str] = mapped_column(Text, default="")  # email HTML (optional)
    ab_test: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_b: Mapped[str] = mapped_column(String(250), default="")
    body_text_b: Mapped[str] = mapped_column(Text, default="")
    ab_percent: Mapped[int] = mapped_column(SmallInteger, default=20)
    ab_metric: Mapped[str] = mapped_column(String(6), default="open")  # open | click
    ab_wait_hours: Mapped[int] = mapped_column(SmallInteger, default=4)
    ab_winner: Mapped[str] = mapped_column(String(1), default="")  # "", "a", "b"
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger)  # minutes after local midnight
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger)
    throttle_per_minute: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(BigInteger, default=0)  # rials
    attribution_days: Mapped[int] = mapped_column(SmallInteger, default=30)
    total: Mapped[int] = mapped_column(Integer, default=0)  # recipients chosen
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Recipient(db.Model):
    """One customer of a campaign. The unique key is what makes a send happen once."""

    __tablename__ = "marketing_recipient"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        Index("ix_marketing_recipient_campaign_status", "campaign_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_campaign.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    variant: Mapped[str] = mapped_column(String(1), default="a")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    token: Mapped[str] = mapped_column(String(32), unique=True)  # tracking/unsubscribe id
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(300), default="")
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class CampaignLink(db.Model):
    """A link in a campaign, rewritten to a signed redirect that counts clicks."""

    __tablename__ = "marketing_campaign_link"
    __table_args__ = (UniqueConstraint("campaign_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_campaign.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(1000))
    clicks: Mapped[int] = mapped_column(Integer, default=0)


class TrackingEvent(db.Model):
    """An open, click, bounce or unsubscribe of one recipient."""

    __tablename__ = "marketing_tracking_event"
    __audit__ = False
    __table_args__ = (Index("ix_marketing_tracking_recipient", "recipient_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_recipient.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))  # open|click|bounce|unsubscribe|delivered
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("marketing_campaign_link.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
