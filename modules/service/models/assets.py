"""Installed base: products a customer owns, with serial number and warranty end."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class InstalledItem(db.Model):
    """One product a customer owns (from a posted sales invoice, or entered by hand)."""

    __tablename__ = "service_installed_item"
    __table_args__ = (Index("ix_service_installed_item_invoice", "invoice_id", "line_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(Integer)  # sales product, no FK (optional)
    product_name: Mapped[str] = mapped_column(String(200))
    serial: Mapped[str] = mapped_column(String(80), default="", index=True)
    purchased_on: Mapped[date | None] = mapped_column(Date)
    warranty_until: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(10), default="manual")  # manual | invoice
    invoice_id: Mapped[int | None] = mapped_column(Integer)
    line_id: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def covered_on(self, day: date) -> bool:
        """Is the item under warranty on ``day``?"""
        return self.warranty_until is not None and day <= self.warranty_until


class WarrantyTerm(db.Model):
    """Warranty length for a sales product (or the default when ``product_id`` is null)."""

    __tablename__ = "service_warranty_term"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    months: Mapped[int] = mapped_column(Integer, default=12)
