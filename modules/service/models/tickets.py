"""Tickets, their messages, attachments and event history (the source of SLA state)."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.customers.models import trigram_ops_visible
from core.database import utcnow
from core.extensions import db

TYPES = ("complaint", "request", "question", "warranty")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("portal", "email", "sms", "phone", "web", "api", "in_person")
STATUSES = ("new", "open", "waiting_customer", "waiting_third_party", "resolved", "closed")
WAITING = ("waiting_customer", "waiting_third_party")  # the SLA clock pauses in these
DONE = ("resolved", "closed")
MESSAGE_KINDS = ("public", "internal", "customer")  # agent reply, internal note, from customer
EVENT_KINDS = (
    "created", "status", "priority", "assign", "reply", "customer_reply", "note", "merged",
    "sla_warning", "sla_breach", "escalated", "policy",
)


class Category(db.Model):
    """A ticket category ("Delivery", "Billing"); new tickets in it go to its team."""

    __tablename__ = "service_category"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Ticket(db.Model):
    """A complaint, request, question or warranty claim from one customer.

    ``owner_id`` is the assigned agent and ``team_id`` the team: record scope uses both.
    The ``sla_*`` and ``*_due`` columns are a cache of ``modules.service.sla`` computed from the
    ticket's events; they can always be recomputed from ``service_ticket_event``.
    """

    __tablename__ = "service_ticket"
    __table_args__ = (
        Index("ix_service_ticket_status_created", "status", "created_at", "id"),
        Index("ix_service_ticket_owner_status", "owner_id", "status"),
        Index("ix_service_ticket_team_status", "team_id", "status"),
        Index("ix_service_ticket_due", "status", "resolution_due"),
        # text search is LIKE '%word%': a trigram GIN index on PostgreSQL, as for customers
        Index("ix_service_ticket_search_key_trgm", "search_key", postgresql_using="gin",
              postgresql_ops={"search_key": "gin_trgm_ops"}).ddl_if(
                  dialect="postgresql", callable_=trigram_ops_visible),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(250))
    type: Mapped[str] = mapped_column(String(12), default="request")
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    channel: Mapped[str] = mapped_column(String(12), default="phone")
    status: Mapped[str] = mapped_column(String(20), default="new")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_category.id", ondelete="SET NULL"), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    # what the ticket is about: a sales product (no FK: sales is optional) and its serial
    product_id: Mapped[int | None] = mapped_column(Integer)
    product_name: Mapped[str] = mapped_column(String(200), default="")
    serial: Mapped[str] = mapped_column(String(80), default="", index=True)
    installed_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_installed_item.id", ondelete="SET NULL"))
    warranty_covered: Mapped[bool | None] = mapped_column(Boolean)  # for warranty claims
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_ticket.id", ondelete="SET NULL"), index=True)
    email_thread: Mapped[str] = mapped_column(String(250), default="")  # first Message-ID in
    reply_to: Mapped[str] = mapped_column(String(200), default="")  # where email replies go
    search_key: Mapped[str] = mapped_column(Text, default="")
    # SLA cache (recomputed from events)
    sla_policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_sla_policy.id", ondelete="SET NULL"))
    first_response_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)  # business seconds
    resolution_seconds: Mapped[int | None] = mapped_column(Integer)  # business seconds
    sla_state: Mapped[str] = mapped_column(String(10), default="ok")  # ok|warning|breached|met
    first_response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    first_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                                index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    reopened: Mapped[int] = mapped_column(SmallInteger, default=0)
    public_replies: Mapped[int] = mapped_column(Integer, default=0)  # first-contact resolution
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    category: Mapped[Category | None] = relationship(lazy="joined")
    messages: Mapped[list["Message"]] = relationship(
        back_populates="ticket", order_by="(Message.created_at, Message.id)",
        cascade="all, delete-orphan")
    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", order_by="(TicketEvent.at, TicketEvent.id)",
        cascade="all, delete-orphan")

    @property
    def reference(self) -> str:
        """The reference customers quote and mail subjects carry: ``T-000123``."""
        return f"T-{self.id:06d}"


class Message(db.Model):
    """A public reply to the customer, an internal note, or a message from the customer."""

    __tablename__ = "service_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("service_ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="public")
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))  # agent
    channel: Mapped[str] = mapped_column(String(12), default="")  # how it came or went out
    email_message_id: Mapped[str | None] = mapped_column(String(250), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="message", order_by="Attachment.id")


class Attachment(db.Model):
    """A file on a ticket, stored under the instance folder by its content hash."""

    __tablename__ = "service_attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("service_ticket.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_message.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))  # safe display name
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the content
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    message: Mapped[Message | None] = relationship(back_populates="attachments")


class TicketEvent(db.Model):
    """One thing that happened to a ticket. Append-only: SLA state is computed from these."""

    __tablename__ = "service_ticket_event"
    __table_args__ = (Index("ix_service_ticket_event_ticket_at", "ticket_id", "at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("service_ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    old: Mapped[str] = mapped_column(String(40), default="")
    new: Mapped[str] = mapped_column(String(40), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TeamCursor(db.Model):
    """Round-robin position inside a team: the agent who got the last ticket."""

    __tablename__ = "service_team_cursor"
    team_id: Mapped[int] = mapped_column(
        ForeignKey("core_team.id", ondelete="CASCADE"), primary_key=True)
    last_user_id: Mapped[int | None] = mapped_column(Integer)


class InboundMail(db.Model):
    """A mail read from the support mailbox, once: polling twice never makes two tickets."""

    __tablename__ = "service_inbound_mail"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_ticket.id", ondelete="SET NULL"))
    sender: Mapped[str] = mapped_column(String(200), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="")  # new|reply|refused
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


__all__ = [
    "Attachment", "Category", "InboundMail", "Message", "TeamCursor", "Ticket", "TicketEvent"
]
