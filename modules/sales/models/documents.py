"""Sales tables: documents — quotes (with versions), orders, invoices and credit notes.

Amounts are integer rials (BigInteger), quantities thousandths of a unit (see
``modules.sales.totals``). A posted invoice never changes: ``modules.sales.invoices`` refuses
edits, and a ``before_flush`` guard (``guard_posted_invoices``) refuses them at the ORM level.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

QUOTE_STATUSES = ("draft", "awaiting_approval", "approved", "sent", "accepted", "rejected",
                  "cancelled")
ORDER_STATUSES = ("open", "invoiced", "cancelled")
INVOICE_KINDS = ("invoice", "credit_note")
INVOICE_STATUSES = ("draft", "posted")


class NumberSequence(db.Model):
    """The last number given to one kind of document in one Jalali fiscal year."""

    __tablename__ = "sales_number_sequence"
    __table_args__ = (UniqueConstraint("kind", "fiscal_year",
                                       name="uq_sales_number_sequence_kind_year"),)
    __audit__ = False  # bumped with plain UPDATEs inside the posting transaction
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class DocumentTotals:
    """The amounts every document carries (see ``modules.sales.totals`` for the rules)."""

    gross: Mapped[int] = mapped_column(BigInteger, default=0)
    line_discounts: Mapped[int] = mapped_column(BigInteger, default=0)
    document_discount: Mapped[int] = mapped_column(BigInteger, default=0)
    taxable: Mapped[int] = mapped_column(BigInteger, default=0)
    vat: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)

    @property
    def discounts(self) -> int:
        return (self.line_discounts or 0) + (self.document_discount or 0)


class LineColumns:
    """One line of a document: what, how much, at which price, and its computed amounts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_product.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(30), default="")
    quantity: Mapped[int] = mapped_column(BigInteger)  # thousandths of ``unit``
    unit_price: Mapped[int] = mapped_column(BigInteger)  # rials per unit
    discount_bp: Mapped[int] = mapped_column(Integer, default=0)
    tax_category: Mapped[str] = mapped_column(String(20), default="standard")
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    gross: Mapped[int] = mapped_column(BigInteger, default=0)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    document_discount: Mapped[int] = mapped_column(BigInteger, default=0)
    taxable: Mapped[int] = mapped_column(BigInteger, default=0)
    vat: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)


class Quote(db.Model):
    """A quote (پیش‌فاکتور) to a customer; its lines live in versions."""

    __tablename__ = "sales_quote"
    __table_args__ = (UniqueConstraint("fiscal_year", "number",
                                       name="uq_sales_quote_year_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core_customer.id"), index=True)
    deal_id: Mapped[int | None] = mapped_column(
        ForeignKey("sales_deal.id", ondelete="SET NULL"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    currency: Mapped[str] = mapped_column(String(3), default="IRR")
    public_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    customer = relationship("Customer", lazy="joined")
    owner = relationship("User", foreign_keys=[owner_id])
    deal = relationship("Deal")
    versions: Mapped[list["QuoteVersion"]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", order_by="QuoteVersion.version")

    @property
    def current(self) -> "QuoteVersion":
        return next(v for v in self.versions if v.version == self.version)

    @property
    def reference(self) -> str:
        return f"{self.fiscal_year}-{self.number}"


class QuoteVersion(DocumentTotals, db.Model):
    """One version of a quote: editing a quote that was sent starts the next version."""

    __tablename__ = "sales_quote_version"
    __table_args__ = (UniqueConstraint("quote_id", "version",
                                       name="uq_sales_quote_version_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("sales_quote.id", ondelete="CASCADE"),
                                          index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    issue_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    quote: Mapped[Quote] = relationship(back_populates="versions")
    lines: Mapped[list["QuoteLine"]] = relationship(
        back_populates="version", cascade="all, delete-orphan",
        order_by="(QuoteLine.position, QuoteLine.id)")


class QuoteLine(LineColumns, db.Model):
    __tablename__ = "sales_quote_line"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("sales_quote_version.id", ondelete="CASCADE"), index=True)

    version: Mapped[QuoteVersion] = relationship(back_populates="lines")


class Order(DocumentTotals, db.Model):
    """A sales order: what the customer agreed to buy (from an accepted quote)."""

    __tablename__ = "sales_order"
    __table_args__ = (UniqueConstraint("fiscal_year", "number",
                                       name="uq_sales_order_year_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    quote_id: Mapped[int | None] = mapped_column(ForeignKey("sales_quote.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core_customer.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    issue_date: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)

    customer = relationship("Customer", lazy="joined")
    quote: Mapped[Quote | None] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan",
        order_by="(OrderLine.position, OrderLine.id)")

    @property
    def reference(self) -> str:
        return f"{self.fiscal_year}-{self.number}"


class OrderLine(LineColumns, db.Model):
    __tablename__ = "sales_order_line"
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"),
                                          index=True)

    order: Mapped[Order] = relationship(back_populates="lines")


class Invoice(DocumentTotals, db.Model):
    """An invoice or a credit note; a draft until posted, then immutable.

    Posting gives the next number of the kind's sequence in the Jalali fiscal year of the
    issue date, and copies the seller's and the buyer's official fields onto the document.
    A credit note (``kind="credit_note"``) names the invoice it corrects in ``original_id``
    and reduces what the customer owes on it; an invoice with an ``original_id`` is a
    corrective invoice that replaces the original (see ``modules.sales.invoices``).
    """

    __tablename__ = "sales_invoice"
    __table_args__ = (UniqueConstraint("kind", "fiscal_year", "number",
                                       name="uq_sales_invoice_kind_year_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default="invoice", index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    original_id: Mapped[int | None] = mapped_column(ForeignKey("sales_invoice.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core_customer.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="IRR")
    issue_date: Mapped[date | None] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Official fields, copied when the invoice is posted.
    seller_legal_name: Mapped[str] = mapped_column(String(200), default="")
    seller_national_id: Mapped[str] = mapped_column(String(11), default="")
    seller_economic_code: Mapped[str] = mapped_column(String(14), default="")
    seller_postal_code: Mapped[str] = mapped_column(String(10), default="")
    seller_address: Mapped[str] = mapped_column(String(500), default="")
    buyer_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_legal_name: Mapped[str] = mapped_column(String(200), default="")
    buyer_national_code: Mapped[str] = mapped_column(String(10), default="")
    buyer_national_id: Mapped[str] = mapped_column(String(11), default="")
    buyer_economic_code: Mapped[str] = mapped_column(String(14), default="")
    buyer_postal_code: Mapped[str] = mapped_column(String(10), default="")
    buyer_address: Mapped[str] = mapped_column(String(500), default="")
    buyer_phone: Mapped[str] = mapped_column(String(40), default="")
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)

    customer = relationship("Customer", lazy="joined")
    order: Mapped[Order | None] = relationship()
    original: Mapped["Invoice | None"] = relationship(remote_side=[id])
    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan",
        order_by="(InvoiceLine.position, InvoiceLine.id)")

    @property
    def posted(self) -> bool:
        return self.status == "posted"

    @property
    def reference(self) -> str:
        """``1404-12`` once posted; empty for a draft (it has no number yet)."""
        return document_reference(self.fiscal_year, self.number)


def document_reference(fiscal_year: int | None, number: int | None) -> str:
    """A posted document's reference, ``1404-12``; empty without a number (a draft)."""
    return f"{fiscal_year}-{number}" if number else ""


class InvoiceLine(LineColumns, db.Model):
    __tablename__ = "sales_invoice_line"
    invoice_id: Mapped[int] = mapped_column(ForeignKey("sales_invoice.id", ondelete="CASCADE"),
                                            index=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
