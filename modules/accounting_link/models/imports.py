"""What the imports from the accounting package keep: the accounting code of each customer
(an external key) and every settlement applied (once each, by its reference)."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db


class CustomerLink(db.Model):
    """A customer's code in the accounting package, and the balance it had there."""

    __tablename__ = "accounting_link_customer_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    balance: Mapped[int | None] = mapped_column(BigInteger)  # rials, as of the last import
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Settlement(db.Model):
    """A payment the accounting side settled an invoice with; applied once by ``reference``."""

    __tablename__ = "accounting_link_settlement"
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    invoice_number: Mapped[str] = mapped_column(String(40))
    invoice_id: Mapped[int] = mapped_column(Integer, index=True)
    payment_id: Mapped[int] = mapped_column(Integer, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    method: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10), default="file")  # file | rest
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
