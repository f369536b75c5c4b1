"""Where journal entries are delivered: connectors, and which outbox message carries each entry.

A connector is an endpoint the deployment configures (a REST/webhook receiver). Each entry
posted while a connector is enabled gets one outbox message for it; ``Delivery`` links the
entry, the connector and that message, so the delivery state (pending, delivered, dead,
attempts, last error) is read from the outbox row itself.
"""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

CONNECTOR_KINDS = ("rest",)


class Connector(db.Model):
    """A REST/webhook endpoint that receives every journal entry, HMAC-signed."""

    __tablename__ = "accounting_link_connector"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="rest")  # one of CONNECTOR_KINDS
    url: Mapped[str] = mapped_column(String(500))
    # Kept as is, like the core webhooks' secrets: every delivery is signed with it. It is
    # shown to the admin once, when the connector is added or the secret is renewed.
    secret: Mapped[str] = mapped_column(String(100))
    timeout: Mapped[float] = mapped_column(Float, default=10.0)  # seconds per request
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_ping_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_ping_result: Mapped[str | None] = mapped_column(String(300))


class Delivery(db.Model):
    """One entry for one connector, carried by one outbox message."""

    __tablename__ = "accounting_link_delivery"
    __audit__ = False  # one per entry and connector; the outbox row holds the state
    __table_args__ = (UniqueConstraint("connector_id", "entry_id",
                                       name="uq_accounting_link_delivery_entry"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(
        ForeignKey("accounting_link_connector.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("accounting_link_entry.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("core_outbox.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    connector: Mapped[Connector] = relationship(lazy="joined")
