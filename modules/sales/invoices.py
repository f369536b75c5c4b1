"""Invoices and credit notes: drafts, posting with a gapless number, immutability, corrections.

- A draft invoice is made directly, from an order, or as a credit note of a posted invoice.
- ``post_invoice`` numbers it in the Jalali fiscal year of its issue date (today), restates
  the VAT at that day's rates, copies the seller's and buyer's official fields onto it, and
  emits ``invoice_posted`` and ``purchase_recorded`` (a credit note records a negative
  purchase).
- A posted invoice never changes: the services refuse, and ``guard_posted_invoices`` (a
  ``before_flush`` hook) refuses any ORM change to it or its lines. Corrections are credit
  notes (reduce what is owed on the original) or a corrective invoice (an invoice whose
  ``original_id`` names the one it replaces: posting it credits the original in full and
  moves the original's payments over).

Functions take plain arguments; the caller commits.
"""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from core.database import utcnow
from core.events import emit, invoice_posted, purchase_recorded
from core.extensions import db
from core.i18n import digits, fiscal_year_of
from modules.sales import lines as doc_lines
from modules.sales import numbering
from modules.sales.lines import DocumentError
from modules.sales.models.documents import Invoice, InvoiceLine, Order
from modules.sales.models.payments import PaymentAllocation
from modules.sales.quotes import today


class InvoiceError(DocumentError):
    """An invoice cannot be saved or posted now; the message says why."""


class InvoiceImmutable(InvoiceError):
    """Someone tried to change a posted invoice."""

    def __init__(self, invoice: Invoice):
        self.invoice = invoice
        super().__init__(immutable_message(invoice))


def immutable_message(invoice: Invoice) -> str:
    if invoice.kind == "credit_note":
        return _("Credit note %(ref)s is posted and cannot be changed.",
                 ref=digits(invoice.reference))
    return _("Invoice %(ref)s is posted and cannot be changed; issue a credit note or a "
             "corrective invoice instead.", ref=digits(invoice.reference))


def title(invoice: Invoice) -> str:
    """What to call the document: "Invoice 1404-12", "Credit note 1404-3", "Draft invoice"."""
    if invoice.kind == "credit_note":
        return (_("Credit note %(ref)s", ref=digits(invoice.reference)) if invoice.posted
                else _("Draft credit note"))
    if invoice.original_id:
        return (_("Corrective invoice %(ref)s", ref=digits(invoice.reference)) if invoice.posted
                else _("Draft corrective invoice"))
    if invoice.posted:
        return _("Invoice %(ref)s", ref=digits(invoice.reference))
    return _("Draft invoice")


# --- drafts --------------------------------------------------------------------------------

def _header(due_date, discount, errors) -> int:
    if due_date is not None and due_date < today():
        errors["due_date"] = _("The due date cannot be in the past.")
    return doc_lines._money(discount, "discount", errors) or 0


def _fill(invoice: Invoice, customer, items, *, due_date, notes, discount) -> None:
    errors: dict[str, str] = {}
    amount = _header(due_date, discount, errors)
    try:
        checked = doc_lines.read_lines(items, customer, today())
        if invoice.kind == "credit_note" and invoice.original is not None:
            _keep_original_rates(checked, invoice.original)
        result = doc_lines.compute(checked, amount)
    except DocumentError as exc:
        errors.update(exc.errors)
    if errors:
        raise InvoiceError(errors)
    doc_lines.store(invoice, InvoiceLine, checked, result)
    invoice.due_date = due_date
    invoice.notes = (notes or "").strip()


def _keep_original_rates(checked, original: Invoice) -> None:
    """A credit note gives back the VAT that was charged: the original's rate per category."""
    rates = {row.tax_category: row.vat_rate_bp for row in original.lines}
    for line in checked:
        line.vat_rate_bp = rates.get(line.tax_category, line.vat_rate_bp)


def create_invoice(customer, items, *, by, due_date: date | None = None, notes: str = "",
                   discount=0, order: Order | None = None,
                   original: Invoice | None = None) -> Invoice:
    """A draft invoice for ``customer``; with ``original``, a corrective invoice replacing it."""
    if original is not None:
        _check_correctable(original, customer)
    invoice = Invoice(kind="invoice", status="draft", customer_id=customer.id,
                      owner_id=getattr(by, "id", None), team_id=getattr(by, "team_id", None),
                      order_id=order.id if order else None,
                      original_id=original.id if original else None,
                      created_by_id=getattr(by, "id", None), notes="")
    _fill(invoice, customer, items, due_date=due_date, notes=notes, discount=discount)
    db.session.add(invoice)
    db.session.flush()
    return invoice


def invoice_from_order(order: Order, *, by) -> Invoice:
    """A draft invoice with the order's lines and prices (VAT restated when it is posted)."""
    if order.status == "cancelled":
        raise InvoiceError(_("Order %(ref)s was cancelled.", ref=digits(order.reference)))
    existing = db.session.execute(select(Invoice).where(
        Invoice.order_id == order.id, Invoice.kind == "invoice")).scalars().first()
    if existing is not None:
        raise InvoiceError(_("Order %(ref)s already has an invoice.", ref=digits(order.reference)))
    invoice = create_invoice(order.customer, doc_lines.as_items(order), by=by,
                             notes=order.notes, discount=order.document_discount, order=order)
    invoice.owner_id, invoice.team_id = order.owner_id or invoice.owner_id, order.team_id
    order.status = "invoiced"
    db.session.flush()
    return invoice


def create_credit_note(original: Invoice, items=None, *, by, notes: str = "",
                       discount=0) -> Invoice:
    """A draft credit note against a posted invoice (by default, all of its lines)."""
    if original.kind != "invoice" or not original.posted:
        raise InvoiceError(_("Only a posted invoice can be credited."))
    note = Invoice(kind="credit_note", status="draft", customer_id=original.customer_id,
                   original_id=original.id, original=original, owner_id=original.owner_id,
                   team_id=original.team_id, created_by_id=getattr(by, "id", None), notes="")
    if items is None:
        items = doc_lines.as_items(original)
        discount = original.document_discount
    _fill(note, original.customer, items, due_date=None, notes=notes, discount=discount)
    db.session.add(note)
    db.session.flush()
    return note


def update_invoice(invoice: Invoice, items, *, due_date: date | None = None, notes: str = "",
                   discount=0) -> Invoice:
    """Change a draft; a posted invoice is refused with ``InvoiceImmutable``."""
    if invoice.posted:
        raise InvoiceImmutable(invoice)
    _fill(invoice, invoice.customer, items, due_date=due_date, notes=notes, discount=discount)
    db.session.flush()
    return invoice


def delete_draft(invoice: Invoice) -> None:
    """Throw a draft away (a posted invoice stays forever)."""
    if invoice.posted:
        raise InvoiceImmutable(invoice)
    if invoice.order is not None and invoice.kind == "invoice":
        invoice.order.status = "open"
    db.session.delete(invoice)
    db.session.flush()


# --- posting -------------------------------------------------------------------------------

SELLER_SETTINGS = {"seller_legal_name": "company.legal_name",
                   "seller_national_id": "company.national_id",
                   "seller_economic_code": "company.economic_code",
                   "seller_postal_code": "company.postal_code",
                   "seller_address": "company.address"}


def _settings(keys) -> dict:
    """Several deployment settings in one query (posting reads six of them)."""
    from core.models import Setting

    with db.session.no_autoflush:
        rows = db.session.execute(select(Setting.key, Setting.value)
                                  .where(Setting.key.in_(list(keys)))).all()
    return dict(rows)


def seller_fields(stored: dict | None = None) -> dict:
    """The company's official fields from the deployment settings."""
    stored = _settings(SELLER_SETTINGS.values()) if stored is None else stored
    return {field: stored.get(key) or "" for field, key in SELLER_SETTINGS.items()}


def buyer_fields(customer) -> dict:
    """The customer's official fields as they are now."""
    address = customer.addresses[0] if customer.addresses else None
    line = " ".join(p for p in (address.province, address.city, address.line) if p) \
        if address else ""
    legal = customer.legal_name or " ".join(
        p for p in (customer.first_name, customer.last_name) if p) or customer.display_name
    phone = customer.mobile or next(iter(customer.values("phone")), "") or ""
    return {
        "buyer_name": customer.display_name or "",
        "buyer_legal_name": legal or "",
        "buyer_national_code": customer.national_code or "",
        "buyer_national_id": customer.national_id or "",
        "buyer_economic_code": customer.economic_code or "",
        "buyer_postal_code": (address.postal_code if address else "") or "",
        "buyer_address": line[:500],
        "buyer_phone": phone[:40],
    }


def party_fields(invoice: Invoice) -> dict:
    """Seller and buyer as printed: the snapshot once posted, the live values on a draft."""
    if invoice.posted:
        names = [c.key for c in Invoice.__table__.columns
                 if c.key.startswith(("seller_", "buyer_"))]
        return {name: getattr(invoice, name) for name in names}
    return {**seller_fields(), **buyer_fields(invoice.customer)}


def credited_total(original_id: int, *, exclude_id: int | None = None) -> int:
    """The total of the posted credit notes against an invoice."""
    stmt = select(func.coalesce(func.sum(Invoice.total), 0)).where(
        Invoice.original_id == original_id, Invoice.kind == "credit_note",
        Invoice.status == "posted")
    if exclude_id is not None:
        stmt = stmt.where(Invoice.id != exclude_id)
    return int(db.session.execute(stmt).scalar())


def replaced_by(original: Invoice) -> Invoice | None:
    """The posted corrective invoice that replaced ``original``, if any."""
    return db.session.execute(select(Invoice).where(
        Invoice.original_id == original.id, Invoice.kind == "invoice",
        Invoice.status == "posted")).scalars().first()


def _check_correctable(original: Invoice, customer) -> None:
    if original.kind != "invoice" or not original.posted:
        raise InvoiceError(_("Only a posted invoice can be corrected."))
    if original.customer_id != customer.id:
        raise InvoiceError(_("A corrective invoice is for the same customer as the original."))
    if replaced_by(original) is not None:
        raise InvoiceError(_("Invoice %(ref)s was already replaced by a corrective invoice.",
                             ref=digits(original.reference)))
    if credited_total(original.id):
        raise InvoiceError(_("Invoice %(ref)s has credit notes; correct it with another "
                             "credit note instead.", ref=digits(original.reference)))


def _restate_vat(invoice: Invoice, day: date) -> None:
    """Recompute the VAT with the rates in force on the issue date (not the draft's date)."""
    checked = doc_lines.lines_of(invoice)
    if invoice.kind == "invoice":
        rates: dict[str, int] = {}
        for line in checked:
            if line.tax_category not in rates:
                rates[line.tax_category] = doc_lines.vat_rate_for(line.tax_category, day)
            line.vat_rate_bp = rates[line.tax_category]
    result = doc_lines.compute(checked, invoice.document_discount)
    for row, line, amounts in zip(invoice.lines, checked, result.lines, strict=True):
        row.vat_rate_bp = line.vat_rate_bp
        row.gross, row.discount, row.taxable = amounts.gross, amounts.discount, amounts.taxable
        row.document_discount, row.vat, row.total = (amounts.document_discount, amounts.vat,
                                                     amounts.total)
    doc_lines.set_totals(invoice, result)


def post_invoice(invoice_id: int, *, by=None) -> Invoice:
    """Post a draft: the next gapless number of its fiscal year, snapshots, events.

    Call it at the start of a transaction (see ``modules.sales.numbering`` about SQLite).
    Everything that does not need the number is written first; the number is taken last,
    so the sequence row stays locked only for the final writes, the events and the commit.
    """
    numbering.begin_numbering()
    invoice = db.session.get(Invoice, invoice_id, with_for_update={"of": Invoice},
                             populate_existing=True)
    if invoice is None:
        raise InvoiceError(_("There is no such invoice."))
    if invoice.posted:
        raise InvoiceError(_("%(title)s is already posted.", title=title(invoice)))
    if not invoice.lines:
        raise InvoiceError(_("An invoice needs at least one line before it is posted."))
    day = today()
    _restate_vat(invoice, day)
    if invoice.kind == "credit_note":
        original = invoice.original
        left = original.total - credited_total(original.id, exclude_id=invoice.id)
        if invoice.total > left:
            raise InvoiceError(_("This credit note (%(amount)s) is more than what is left to "
                                 "credit on invoice %(ref)s (%(left)s).",
                                 amount=_money(invoice.total), ref=digits(original.reference),
                                 left=_money(left)))
    elif invoice.original_id:
        _check_correctable(invoice.original, invoice.customer)
    stored = _settings([*SELLER_SETTINGS.values(), "fiscal.year_start_month"])
    fiscal_year = fiscal_year_of(day, int(stored.get("fiscal.year_start_month") or 1))
    invoice.issue_date = day
    for name, value in {**seller_fields(stored), **buyer_fields(invoice.customer)}.items():
        setattr(invoice, name, value)
    db.session.flush()  # still a draft: the lines, amounts and snapshots, before the lock
    invoice.fiscal_year = fiscal_year
    invoice.number = numbering.next_number(invoice.kind, fiscal_year)
    invoice.status = "posted"
    invoice.posted_at = utcnow()
    invoice.posted_by_id = getattr(by, "id", None)
    db.session.flush()
    _announce(invoice)
    if invoice.kind == "invoice" and invoice.original_id:
        _replace_original(invoice, by=by)
    return invoice


def _money(amount: int) -> str:
    from core.money import format_money

    return format_money(amount)


def _announce(invoice: Invoice) -> None:
    sign = -1 if invoice.kind == "credit_note" else 1
    emit(invoice_posted, invoice=invoice, invoice_id=invoice.id, kind=invoice.kind,
         customer_id=invoice.customer_id, fiscal_year=invoice.fiscal_year,
         number=invoice.number, total=invoice.total, vat=invoice.vat,
         original_id=invoice.original_id, occurred_at=invoice.posted_at)
    emit(purchase_recorded, customer_id=invoice.customer_id, amount=sign * invoice.total,
         occurred_at=invoice.posted_at, source="sales", reference=invoice.reference,
         key=f"sales.invoice:{invoice.id}")


def _replace_original(corrective: Invoice, *, by) -> None:
    """Credit the replaced invoice in full and move its payments to the corrective one."""
    original = corrective.original
    note = create_credit_note(original, by=by,
                              notes=_("Replaced by corrective invoice %(ref)s",
                                      ref=digits(corrective.reference)))
    db.session.flush()
    _restate_vat(note, today())
    note.fiscal_year = corrective.fiscal_year
    note.number = numbering.next_number("credit_note", note.fiscal_year)
    note.issue_date = corrective.issue_date
    for name, value in party_fields(corrective).items():
        setattr(note, name, value)
    note.status, note.posted_at, note.posted_by_id = "posted", utcnow(), getattr(by, "id", None)
    db.session.flush()
    _announce(note)
    room = corrective.total
    allocations = db.session.execute(select(PaymentAllocation).where(
        PaymentAllocation.invoice_id == original.id).order_by(PaymentAllocation.id)).scalars()
    for allocation in allocations:
        moved = min(allocation.amount, room)
        room -= moved
        if moved == 0:
            db.session.delete(allocation)
            continue
        allocation.amount = moved
        allocation.invoice_id = corrective.id
    db.session.flush()


# --- the ORM guard -------------------------------------------------------------------------

def _was_posted(invoice: Invoice) -> bool:
    """Whether the invoice was posted before the changes now being flushed."""
    state = inspect(invoice)
    if state.transient or state.pending:
        return False
    history = state.attrs.status.history
    before = history.deleted[0] if history.deleted else invoice.status
    return before == "posted"


def guard_posted_invoices(session: Session, _flush_context, _instances) -> None:
    """before_flush: refuse any change to a posted invoice or its lines, loudly."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Invoice) and _was_posted(obj):
            if obj in session.deleted or session.is_modified(obj, include_collections=True):
                raise InvoiceImmutable(obj)
        elif isinstance(obj, InvoiceLine):
            owner = obj.invoice or session.get(Invoice, obj.invoice_id)
            if owner is not None and _was_posted(owner):
                if obj in session.deleted or session.is_modified(obj):
                    raise InvoiceImmutable(owner)
    for obj in session.new:
        if isinstance(obj, InvoiceLine) and obj.invoice is not None and _was_posted(obj.invoice):
            raise InvoiceImmutable(obj.invoice)


def install_guard() -> None:
    """Listen on every session (idempotent)."""
    if not event.contains(Session, "before_flush", guard_posted_invoices):
        event.listen(Session, "before_flush", guard_posted_invoices)
