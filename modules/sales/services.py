"""What other modules may call in sales (DESIGN §2: modules talk only through services.py).

Catalogue: the customer's price of a product and a user's discount limit. Pipeline: open a
deal for a customer (e.g. from a qualified lead) and read a customer's deals.
"""

from sqlalchemy import select

from core.extensions import db
from modules.sales.catalog import discount_limit, price_for
from modules.sales.invoices import credited_total, replaced_by
from modules.sales.models.catalog import Product
from modules.sales.models.pipeline import Deal
from modules.sales.pipeline import PipelineError, create_deal

__all__ = ["PipelineError", "create_deal", "customer_deals", "discount_limit", "price_for",
           "category_buyers", "credited_total", "product_by_code", "product_categories",
           "products_by_ids", "products_for_choice", "replaced_by"]


def product_by_code(code: str) -> Product | None:
    """The catalogue item with this code (as stored: Latin digits), or None."""
    from modules.sales.catalog import clean_code

    return db.session.execute(select(Product).where(Product.code == clean_code(code))).scalar()


def customer_deals(customer_id: int, status: str | None = None) -> list[Deal]:
    """A customer's deals, newest first (not scoped: the caller decides who sees them)."""
    stmt = select(Deal).where(Deal.customer_id == customer_id).order_by(Deal.created_at.desc())
    if status:
        stmt = stmt.where(Deal.status == status)
    return list(db.session.execute(stmt).unique().scalars())


def products_by_ids(ids) -> dict[int, Product]:
    """The catalogue items with these ids, by id (missing ids are left out)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {p.id: p for p in db.session.execute(
        select(Product).where(Product.id.in_(ids))).unique().scalars()}


def products_for_choice(kind: str | None = "product", limit: int = 1000) -> list[Product]:
    """Products on sale (of ``kind``; None for all), by name, for pick lists."""
    stmt = select(Product).where(Product.active.is_(True)).order_by(Product.name).limit(limit)
    if kind:
        stmt = stmt.where(Product.kind == kind)
    return list(db.session.execute(stmt).unique().scalars())


def product_categories() -> list[tuple[int, str]]:
    """(id, name) of every product category, by name (for pick lists in other modules)."""
    from modules.sales.models.catalog import ProductCategory

    return [tuple(row) for row in db.session.execute(
        select(ProductCategory.id, ProductCategory.name).order_by(ProductCategory.name))]


def category_buyers(category_id: int):
    """A select of the ids of customers with a posted invoice line of a product in the category."""
    from modules.sales.models.documents import Invoice, InvoiceLine

    return (select(Invoice.customer_id)
            .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
            .join(Product, Product.id == InvoiceLine.product_id)
            .where(Invoice.status == "posted", Invoice.kind == "invoice",
                   Product.category_id == category_id))


def won_deals_of_customers(customer_ids, since=None, deal_ids=()) -> list[dict]:
    """Won deals of these customers (closed at or after ``since``) or with these ids, as
    plain dicts (keys: id, customer_id, value in rials, closed_at). For marketing attribution.
    """
    rows = {}
    for column, values in ((Deal.customer_id, customer_ids), (Deal.id, deal_ids)):
        ids = sorted({i for i in values if i is not None})
        for start in range(0, len(ids), 500):
            stmt = select(Deal.id, Deal.customer_id, Deal.value, Deal.closed_at).where(
                Deal.status == "won", Deal.closed_at.is_not(None),
                column.in_(ids[start:start + 500]))
            if since is not None and column is Deal.customer_id:
                stmt = stmt.where(Deal.closed_at >= since)
            rows.update({r.id: dict(r._mapping) for r in db.session.execute(stmt)})
    return [rows[i] for i in sorted(rows)]


def same_competitor(a: str, b: str) -> bool:
    """Whether two competitor names are the same once normalised (Persian letters, case,
    spaces)."""
    from core.i18n import normalize

    def key(name):
        return " ".join(normalize(name or "").lower().split())

    return bool(key(a)) and key(a) == key(b)


def lost_deals_to(names) -> list[dict]:
    """Lost deals whose competitor matches one of ``names`` (normalised), newest first.

    Keys: id, title, customer_id, value, closed_at, lost_reason, competitor.
    """
    names = [n for n in names if n]
    stmt = select(Deal.id, Deal.title, Deal.customer_id, Deal.value, Deal.closed_at,
                  Deal.lost_reason, Deal.competitor).where(
        Deal.status == "lost", Deal.competitor != "").order_by(Deal.closed_at.desc(), Deal.id)
    return [dict(r._mapping) for r in db.session.execute(stmt)
            if any(same_competitor(r.competitor, n) for n in names)]


# --- for the accounting link (read-only) ---------------------------------------------------

def invoice_posting_lines(invoice) -> list[dict]:
    """The lines of an invoice as accounting posts them, in order: dicts with ``category_id``
    (of the line's product; None without one), ``gross``, ``discounts`` (line + share of the
    document discount), ``vat`` and ``total`` (rials)."""
    categories = {p.id: p.category_id for p in products_by_ids(
        line.product_id for line in invoice.lines).values()}
    return [{"category_id": categories.get(line.product_id), "gross": line.gross,
             "discounts": (line.discount or 0) + (line.document_discount or 0),
             "vat": line.vat, "total": line.total} for line in invoice.lines]


def document_title(invoice) -> str:
    """What sales calls a posted invoice or credit note ("Invoice ۱۴۰۴-۱۲") in the current
    language."""
    from modules.sales.invoices import title

    return title(invoice)


def posted_invoices_after(after_id: int = 0, limit: int = 500) -> list:
    """Posted invoices and credit notes with an id above ``after_id``, by id (for backfills)."""
    from modules.sales.models.documents import Invoice

    return list(db.session.execute(
        select(Invoice).where(Invoice.status == "posted", Invoice.id > after_id)
        .order_by(Invoice.id).limit(limit)).unique().scalars())


def payments_after(after_id: int = 0, limit: int = 500) -> list:
    """Payments with an id above ``after_id``, by id (for backfills)."""
    from modules.sales.models.payments import Payment

    return list(db.session.execute(
        select(Payment).where(Payment.id > after_id).order_by(Payment.id).limit(limit))
        .unique().scalars())


def invoice_by_id(invoice_id: int):
    """The invoice or credit note with this id, or None (not scoped)."""
    from modules.sales.models.documents import Invoice

    return db.session.get(Invoice, invoice_id)


def invoices_by_ids(ids) -> list:
    """The invoices and credit notes with these ids, in one query (not scoped)."""
    from modules.sales.models.documents import Invoice

    if not ids:
        return []
    return list(db.session.execute(select(Invoice).where(Invoice.id.in_(list(ids))))
                .unique().scalars())


def payment_by_id(payment_id: int):
    """The payment with this id, or None (not scoped)."""
    from modules.sales.models.payments import Payment

    return db.session.get(Payment, payment_id)


def payment_method_label(method: str) -> str:
    """"Cash", "Card", "Bank transfer" or "Cheque" in the current language."""
    from modules.sales.payments import method_label

    return method_label(method)


def line_categories(invoice) -> list[tuple[int | None, int]]:
    """(product category id or None, line total in rials) of each line of a document."""
    ids = {line.product_id for line in invoice.lines if line.product_id}
    categories = {p.id: p.category_id for p in products_by_ids(ids).values()}
    return [(categories.get(line.product_id), int(line.total or 0)) for line in invoice.lines]


def other_posted_invoices(invoice) -> int:
    """How many other posted invoices (not credit notes) the invoice's customer has."""
    from sqlalchemy import func

    from modules.sales.models.documents import Invoice

    return int(db.session.execute(select(func.count(Invoice.id)).where(
        Invoice.customer_id == invoice.customer_id, Invoice.kind == "invoice",
        Invoice.status == "posted", Invoice.id != invoice.id)).scalar())


# --- for the accounting link's imports and reconciliation ------------------------------------

def posted_invoice_by_reference(reference: str, kind: str = "invoice"):
    """The posted invoice (or, with ``kind="credit_note"``, credit note) numbered
    ``reference`` ("1404-12"; any digits, "-" or "/"), or None."""
    from core.i18n import to_latin_digits
    from modules.sales.models.documents import Invoice

    text = to_latin_digits(str(reference or "")).strip().replace("/", "-")
    year, _sep, number = text.partition("-")
    if not (year.isdigit() and number.isdigit()):
        return None
    return db.session.execute(select(Invoice).where(
        Invoice.kind == kind, Invoice.status == "posted", Invoice.fiscal_year == int(year),
        Invoice.number == int(number))).unique().scalar()


def invoice_owed(invoice) -> int:
    """What is still owed on a posted invoice (rials)."""
    from modules.sales.receivables import invoice_balance

    return invoice_balance(invoice)


def settle_invoice(invoice, *, amount: int, method: str, received_on=None, reference: str = "",
                   note: str = "", by=None):
    """Record a payment of ``amount`` allocated to ``invoice`` alone (cash, card or transfer);
    raises ``ValueError`` (sales' PaymentError) with the reason when it cannot."""
    from modules.sales.payments import record_payment

    return record_payment(invoice.customer, amount=amount, method=method, by=by,
                          received_on=received_on, reference=reference, note=note,
                          allocations=[(invoice, amount)])


def documents_between(start, end) -> list[dict]:
    """Posted invoices and credit notes issued, and payments received, from ``start`` to
    ``end`` (dates, inclusive), as dicts: kind (invoice, credit_note, payment), id, number
    (the invoice's "1404-12"; a payment's reference), date, amount (rials), customer_id,
    status (a payment's)."""
    from modules.sales.models.documents import Invoice
    from modules.sales.models.payments import Payment

    found = [{"kind": i.kind, "id": i.id, "number": i.reference, "date": i.issue_date,
              "amount": i.total, "customer_id": i.customer_id, "status": i.status}
             for i in db.session.execute(select(Invoice).where(
                 Invoice.status == "posted", Invoice.issue_date >= start,
                 Invoice.issue_date <= end).order_by(Invoice.issue_date, Invoice.id))
             .unique().scalars()]
    found += [{"kind": "payment", "id": p.id, "number": p.reference, "date": p.received_on,
               "amount": p.amount, "customer_id": p.customer_id, "status": p.status}
              for p in db.session.execute(select(Payment).where(
                  Payment.received_on >= start, Payment.received_on <= end)
                  .order_by(Payment.received_on, Payment.id)).unique().scalars()]
    return found


def invoice_payments(invoice_id: int) -> list[dict]:
    """What was paid on an invoice, oldest first, for its e-invoice: dicts with ``method``,
    ``status``, ``amount`` (allocated to this invoice, rials), ``received_on``, ``reference``
    and ``sayad_number``."""
    from modules.sales.models.payments import Payment, PaymentAllocation

    rows = db.session.execute(
        select(Payment, PaymentAllocation.amount).join(
            PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
        .where(PaymentAllocation.invoice_id == invoice_id)
        .order_by(Payment.received_on, Payment.id)).all()
    return [{"method": p.method, "status": p.status, "amount": int(amount),
             "received_on": p.received_on, "reference": p.reference or "",
             "sayad_number": p.sayad_number or ""} for p, amount in rows]
