"""What customers owe: balance per invoice and per customer, and aging by Jalali month.

Balance of an invoice = its total − its posted credit notes − the payments allocated to it
(bounced cheques do not count). Balance of a customer = posted invoices − posted credit
notes − every payment that counts (allocated or not: an unallocated payment is a credit on
the customer's account). Cheques received or deposited but not yet cleared count as paid and
are shown separately, since they may still bounce.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, case, func, select

from core.extensions import db
from core.i18n import jalali_month_of
from modules.sales.models.documents import Invoice
from modules.sales.models.payments import Payment, PaymentAllocation


def _credited(ids) -> dict[int, int]:
    rows = db.session.execute(
        select(Invoice.original_id, func.sum(Invoice.total))
        .where(Invoice.original_id.in_(ids), Invoice.kind == "credit_note",
               Invoice.status == "posted")
        .group_by(Invoice.original_id)).all()
    return {k: int(v) for k, v in rows}


def _paid(ids) -> dict[int, int]:
    rows = db.session.execute(
        select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id.in_(ids), Payment.status != "bounced")
        .group_by(PaymentAllocation.invoice_id)).all()
    return {k: int(v) for k, v in rows}


@dataclass(frozen=True)
class InvoiceBalance:
    total: int
    credited: int
    paid: int

    @property
    def balance(self) -> int:
        return self.total - self.credited - self.paid


def balances(invoices) -> dict[int, InvoiceBalance]:
    """Balance details of posted invoices (kind "invoice"), by invoice id."""
    invoices = [i for i in invoices if i.kind == "invoice" and i.status == "posted"]
    ids = [i.id for i in invoices]
    if not ids:
        return {}
    credited, paid = _credited(ids), _paid(ids)
    return {i.id: InvoiceBalance(i.total, credited.get(i.id, 0), paid.get(i.id, 0))
            for i in invoices}


def invoice_balance(invoice: Invoice) -> int:
    """What is still owed on one posted invoice (0 for drafts and credit notes)."""
    found = balances([invoice]).get(invoice.id)
    return found.balance if found else 0


@dataclass(frozen=True)
class CustomerBalance:
    invoiced: int
    credited: int
    paid: int
    uncleared_cheques: int

    @property
    def balance(self) -> int:
        return self.invoiced - self.credited - self.paid


def customer_balance(customer_id: int) -> CustomerBalance:
    """Everything the customer was invoiced, credited and paid, and what they owe now."""
    posted = select(Invoice.kind, func.coalesce(func.sum(Invoice.total), 0)).where(
        Invoice.customer_id == customer_id, Invoice.status == "posted").group_by(Invoice.kind)
    sums = dict(db.session.execute(posted).all())
    uncleared = case((Payment.status.in_(("received", "deposited")), Payment.amount), else_=0)
    paid, pending = db.session.execute(
        select(func.coalesce(func.sum(Payment.amount), 0), func.coalesce(func.sum(uncleared), 0))
        .where(Payment.customer_id == customer_id, Payment.status != "bounced")).one()
    return CustomerBalance(int(sums.get("invoice", 0)), int(sums.get("credit_note", 0)),
                           int(paid), int(pending))


def open_invoices(customer_id: int) -> list[tuple[Invoice, int]]:
    """The customer's posted invoices with something still owed, oldest first."""
    invoices = list(db.session.execute(
        select(Invoice).where(Invoice.customer_id == customer_id, Invoice.kind == "invoice",
                              Invoice.status == "posted")
        .order_by(Invoice.issue_date, Invoice.id)).scalars())
    found = balances(invoices)
    return [(i, found[i.id].balance) for i in invoices if found[i.id].balance > 0]


@dataclass
class AgingRow:
    customer_id: int
    name: str
    cells: dict = field(default_factory=dict)  # (year, month) or "earlier" → rials
    total: int = 0


@dataclass
class Aging:
    months: list[tuple[int, int]]
    rows: list[AgingRow]
    column_totals: dict
    total: int


def _month_steps(as_of: date, count: int) -> list[tuple[int, int]]:
    year, month = jalali_month_of(as_of)
    months = []
    for _ in range(count):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def aging(invoices_stmt: Select, *, as_of: date, months: int = 6) -> Aging:
    """Open balances by customer and by the Jalali month of the invoice's issue date.

    ``invoices_stmt`` selects the ``Invoice`` rows to consider (already record-scoped by the
    caller); the newest ``months`` months are columns, older invoices go to "earlier".
    """
    columns = _month_steps(as_of, months)
    invoices = list(db.session.execute(
        invoices_stmt.where(Invoice.kind == "invoice", Invoice.status == "posted",
                            Invoice.issue_date <= as_of)).scalars())
    found = balances(invoices)
    rows: dict[int, AgingRow] = {}
    column_totals: dict = {}
    for invoice in invoices:
        owed = found[invoice.id].balance
        if owed <= 0:
            continue
        month = jalali_month_of(invoice.issue_date)
        key = month if month in columns else "earlier"
        row = rows.setdefault(invoice.customer_id, AgingRow(
            invoice.customer_id, invoice.buyer_name or invoice.customer.display_name))
        row.cells[key] = row.cells.get(key, 0) + owed
        row.total += owed
        column_totals[key] = column_totals.get(key, 0) + owed
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.name))
    return Aging(columns, ordered, column_totals, sum(r.total for r in ordered))
