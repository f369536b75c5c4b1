"""Segments: dynamic ones are a rule tree evaluated in SQL; static ones are a stored list."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class Segment(db.Model):
    """A set of customers. ``rules`` e.g. ``{"match": "all", "rules": [{"field": "city",
    "op": "eq", "value": "تهران"}, {"match": "any", "rules": [...]}]}``."""

    __tablename__ = "marketing_segment"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(8), default="dynamic")  # dynamic | static
    rules: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_count: Mapped[int | None] = mapped_column(Integer)
    counted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)


class SegmentMember(db.Model):
    """A customer on a static list."""

    __tablename__ = "marketing_segment_member"
    segment_id: Mapped[int] = mapped_column(
        ForeignKey("marketing_segment.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
