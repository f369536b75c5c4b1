"""Sales tables: payments (cash, card, transfer, cheque) and their allocation to invoices.

A payment counts against what the customer owes unless it is a bounced cheque. The part of a
payment not allocated to an invoice stays on the customer's account as a credit.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

METHODS = ("cash", "card", "transfer", "cheque")
CHEQUE_STATUSES = ("received", "deposited", "cleared", "bounced")
# Where a cheque may go from each status (bounced is final; a new cheque is a new payment).
CHEQUE_FLOW = {"received": ("deposited", "bounced"), "deposited": ("cleared", "bounced"),
               "cleared": (), "bounced": ()}


class Payment(db.Model):
    """Money received from a customer; a cheque carries its Sayad number, bank and due date."""

    __tablename__ = "sales_payment"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("core_customer.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="IRR")
    received_on: Mapped[date] = mapped_column(Date, index=True)
    reference: Mapped[str] = mapped_column(String(100), default="")  # card/transfer tracking no.
    note: Mapped[str] = mapped_column(Text, default="")
    # cash, card and transfer are "cleared" at once; a cheque goes received → deposited →
    # cleared, or bounced (which re-opens what it paid).
    status: Mapped[str] = mapped_column(String(10), default="cleared", index=True)
    sayad_number: Mapped[str | None] = mapped_column(String(16), index=True)
    bank: Mapped[str] = mapped_column(String(80), default="")
    cheque_due_date: Mapped[date | None] = mapped_column(Date, index=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)

    customer = relationship("Customer", lazy="joined")
    allocations: Mapped[list["PaymentAllocation"]] = relationship(
        back_populates="payment", cascade="all, delete-orphan",
        order_by="PaymentAllocation.id")

    @property
    def counts(self) -> bool:
        """Whether the payment reduces what the customer owes (a bounced cheque does not)."""
        return self.status != "bounced"

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.allocations)

    @property
    def unallocated(self) -> int:
        return self.amount - self.allocated


class PaymentAllocation(db.Model):
    """The part of a payment that settles one invoice."""

    __tablename__ = "sales_payment_allocation"
    __table_args__ = (UniqueConstraint("payment_id", "invoice_id",
                                       name="uq_sales_payment_allocation_pair"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("sales_payment.id", ondelete="CASCADE"),
                                            index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("sales_invoice.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)

    payment: Mapped[Payment] = relationship(back_populates="allocations")
    invoice = relationship("Invoice")
