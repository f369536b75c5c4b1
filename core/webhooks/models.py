"""Webhook endpoints: where events are POSTed, signed with the endpoint's secret."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class WebhookEndpoint(db.Model):
    """A receiver of events; ``events`` lists event names ("*" for all)."""

    __tablename__ = "core_webhook_endpoint"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # Kept as is (not hashed): every delivery is signed with it. Shown to the admin once.
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_delivery_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_result: Mapped[str | None] = mapped_column(String(300))

    def wants(self, event: str) -> bool:
        return self.active and ("*" in self.events or event in self.events)
