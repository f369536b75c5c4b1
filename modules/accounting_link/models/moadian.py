"""E-invoices for the tax authority's system (سامانه مؤدیان): one record per reported document.

A record is written once with its tax id and payload (see ``modules.accounting_link.moadian``)
and only its delivery state changes afterwards: ``ready`` (built, submission switched off),
``pending`` (queued in the outbox), ``sent`` (the endpoint accepted it), ``failed`` (the
outbox gave up; retry it from the deliveries page) or ``invalid`` (it could not be built: the
error says what to fix, then build it again).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.database import utcnow
from core.extensions import db

EINVOICE_STATUSES = ("ready", "pending", "sent", "failed", "invalid")
# ins: 1 main (اصلی), 2 corrective (اصلاحی), 3 cancellation (ابطالی), 4 return (برگشت از فروش)
SUBJECTS = {1: "main", 2: "corrective", 3: "cancellation", 4: "return"}


class EInvoice(db.Model):
    """The e-invoice of one posted invoice, corrective invoice or credit note."""

    __tablename__ = "accounting_link_einvoice"
    __table_args__ = (UniqueConstraint("invoice_id", "subject",
                                       name="uq_accounting_link_einvoice_invoice_subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("sales_invoice.id"), index=True)
    subject: Mapped[int] = mapped_column(SmallInteger)  # a key of SUBJECTS
    reference: Mapped[str] = mapped_column(String(30), default="")  # the document's number
    # The serial inside the tax id (unique per deployment); null while the record is invalid.
    serial: Mapped[int | None] = mapped_column(Integer, unique=True)
    tax_id: Mapped[str | None] = mapped_column(String(22), unique=True)
    referenced_tax_id: Mapped[str | None] = mapped_column(String(22))  # irtaxid
    payload: Mapped[Any] = mapped_column(JSON, nullable=True)
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # tbill, for the list
    status: Mapped[str] = mapped_column(String(10), default="ready", index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    response: Mapped[str] = mapped_column(Text, default="")  # what the endpoint answered
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def subject_name(self) -> str:
        return SUBJECTS.get(self.subject, "")
