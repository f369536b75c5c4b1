"""``/api/v1/sales/{quotes,invoices,payments}`` and ``/api/v1/sales/invoices/<id>/pdf``.

Documents are record-scoped like the UI (another's document → 404); the customer named in a
new document must be in the user's customer scope. Creating invoices and payments honours
``Idempotency-Key``. A posted invoice answers a change with 409 and says why.
"""

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.api.idempotency import commit_unless_keyed, idempotent
from core.api.serialise import respond
from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers.models import Customer
from core.extensions import db
from core.pagination import keyset_page
from modules.sales import invoices as invoice_services
from modules.sales import payments as payment_services
from modules.sales import pdf, receivables
from modules.sales import quotes as quote_services
from modules.sales.lines import DocumentError
from modules.sales.models.documents import Invoice, Order, Quote
from modules.sales.models.payments import CHEQUE_STATUSES, METHODS, Payment
from modules.sales.totals import quantity_text

bp = Blueprint("sales_documents_api", __name__, url_prefix="/api/v1/sales",
               description="Quotes, invoices (with PDFs), credit notes and payments.")


# --- schemas -------------------------------------------------------------------------------

class LineIn(ma.Schema):
    product_id = ma.fields.Integer(load_default=None, allow_none=True)
    description = ma.fields.String(load_default="")
    unit = ma.fields.String(load_default="")
    quantity = ma.fields.Decimal(required=True, metadata={
        "description": "Units, up to three decimals (2.5 kg)"})
    unit_price = ma.fields.Integer(load_default=None, allow_none=True, strict=True, metadata={
        "description": "Rials per unit; left out: the customer's price-list price"})
    discount_percent = ma.fields.Decimal(load_default=0, metadata={
        "description": "0-100, up to two decimals", "default": 0})
    tax_category = ma.fields.String(load_default=None, allow_none=True)


class LineOut(ma.Schema):
    position = ma.fields.Integer()
    product_id = ma.fields.Integer(allow_none=True)
    description = ma.fields.String()
    unit = ma.fields.String()
    quantity = ma.fields.Function(lambda line: quantity_text(line.quantity))
    unit_price = ma.fields.Integer()
    discount_percent = ma.fields.Function(lambda line: str(line.discount_bp / 100))
    tax_category = ma.fields.String()
    vat_rate_percent = ma.fields.Function(lambda line: str(line.vat_rate_bp / 100))
    gross = ma.fields.Integer()
    discount = ma.fields.Integer()
    document_discount = ma.fields.Integer()
    taxable = ma.fields.Integer()
    vat = ma.fields.Integer()
    total = ma.fields.Integer()


class _Amounts(ma.Schema):
    gross = ma.fields.Integer()
    line_discounts = ma.fields.Integer()
    document_discount = ma.fields.Integer()
    taxable = ma.fields.Integer()
    vat = ma.fields.Integer()
    total = ma.fields.Integer()


class QuoteIn(ma.Schema):
    customer_id = ma.fields.Integer(required=True)
    lines = ma.fields.List(ma.fields.Nested(LineIn), required=True)
    valid_until = ma.fields.Date(load_default=None, allow_none=True)
    notes = ma.fields.String(load_default="")
    discount = ma.fields.Integer(load_default=0, strict=True,
                                 metadata={"description": "Document discount in rials"})
    deal_id = ma.fields.Integer(load_default=None, allow_none=True)


class QuoteOut(_Amounts):
    id = ma.fields.Integer()
    reference = ma.fields.String()
    customer_id = ma.fields.Integer()
    deal_id = ma.fields.Integer(allow_none=True)
    owner_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()
    version = ma.fields.Integer()
    issue_date = ma.fields.Date()
    valid_until = ma.fields.Date(allow_none=True)
    notes = ma.fields.String()
    needs_approval = ma.fields.Boolean()
    lines = ma.fields.List(ma.fields.Nested(LineOut))
    order_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class InvoiceIn(ma.Schema):
    customer_id = ma.fields.Integer(load_default=None)
    order_id = ma.fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "Invoice this order (its lines and customer)"})
    original_id = ma.fields.Integer(load_default=None, allow_none=True, metadata={
        "description": "A corrective invoice replacing this posted invoice"})
    lines = ma.fields.List(ma.fields.Nested(LineIn), load_default=None)
    due_date = ma.fields.Date(load_default=None, allow_none=True)
    notes = ma.fields.String(load_default="")
    discount = ma.fields.Integer(load_default=0, strict=True)
    post = ma.fields.Boolean(load_default=False, metadata={
        "description": "Post at once (gives the number; the invoice is then immutable)"})


class InvoiceChanges(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(LineIn), required=True)
    due_date = ma.fields.Date(load_default=None, allow_none=True)
    notes = ma.fields.String(load_default="")
    discount = ma.fields.Integer(load_default=0, strict=True)


class CreditNoteIn(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(LineIn), load_default=None, metadata={
        "description": "What is credited; left out: the whole invoice"})
    notes = ma.fields.String(load_default="")
    discount = ma.fields.Integer(load_default=0, strict=True)
    post = ma.fields.Boolean(load_default=False)


class InvoiceOut(_Amounts):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    status = ma.fields.String()
    reference = ma.fields.String()
    fiscal_year = ma.fields.Integer(allow_none=True)
    number = ma.fields.Integer(allow_none=True)
    customer_id = ma.fields.Integer()
    order_id = ma.fields.Integer(allow_none=True)
    original_id = ma.fields.Integer(allow_none=True)
    issue_date = ma.fields.Date(allow_none=True)
    due_date = ma.fields.Date(allow_none=True)
    notes = ma.fields.String()
    posted_at = ma.fields.DateTime(allow_none=True)
    balance = ma.fields.Function(lambda invoice: _balance(invoice))
    parties = ma.fields.Function(lambda invoice: invoice_services.party_fields(invoice))
    lines = ma.fields.List(ma.fields.Nested(LineOut))


class AllocationIn(ma.Schema):
    invoice_id = ma.fields.Integer(required=True)
    amount = ma.fields.Integer(required=True, strict=True)


class PaymentIn(ma.Schema):
    customer_id = ma.fields.Integer(required=True)
    amount = ma.fields.Integer(required=True, strict=True, metadata={"description": "Rials"})
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(METHODS))
    received_on = ma.fields.Date(load_default=None, allow_none=True)
    reference = ma.fields.String(load_default="")
    note = ma.fields.String(load_default="")
    sayad_number = ma.fields.String(load_default=None, allow_none=True,
                                    metadata={"description": "Cheques: 16 digits"})
    bank = ma.fields.String(load_default="")
    cheque_due_date = ma.fields.Date(load_default=None, allow_none=True)
    allocations = ma.fields.List(ma.fields.Nested(AllocationIn), load_default=None, metadata={
        "description": "Left out: the oldest open invoices first"})


class AllocationOut(ma.Schema):
    invoice_id = ma.fields.Integer()
    amount = ma.fields.Integer()


class PaymentOut(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    method = ma.fields.String()
    amount = ma.fields.Integer()
    status = ma.fields.String()
    received_on = ma.fields.Date()
    reference = ma.fields.String()
    note = ma.fields.String()
    sayad_number = ma.fields.String(allow_none=True)
    bank = ma.fields.String()
    cheque_due_date = ma.fields.Date(allow_none=True)
    allocations = ma.fields.List(ma.fields.Nested(AllocationOut))
    unallocated = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class ChequeStatusIn(ma.Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(CHEQUE_STATUSES))


class ListArgs(ma.Schema):
    customer_id = ma.fields.Integer(load_default=None)
    status = ma.fields.String(load_default=None)
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))


def _page_schema(item):
    return type(f"{item.__name__}Page", (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item)),
        "next": ma.fields.String(allow_none=True),
    })


InvoicePage = _page_schema(InvoiceOut)


# --- helpers -------------------------------------------------------------------------------

def _customer(customer_id) -> Customer:
    """The customer if the user may see it; 422 naming the field otherwise."""
    customer = db.session.execute(scoped(select(Customer).where(Customer.id == customer_id),
                                         Customer, "customers")).scalar()
    if customer is None:
        abort(422, message=_("Some fields are invalid; see 'errors'."),
              errors={"customer_id": _("There is no such customer.")})
    return customer


def _refuse(exc: DocumentError):
    db.session.rollback()
    if isinstance(exc, invoice_services.InvoiceImmutable):
        abort(409, message=str(exc))
    if list(exc.errors) == [""]:
        abort(409, message=exc.errors[""])
    abort(422, message=_("Some fields are invalid; see 'errors'."), errors=exc.errors)


def _balance(invoice: Invoice) -> int:
    """What is owed on the invoice: known already for a list page (one query for the page)."""
    known = getattr(invoice, "known_balance", None)
    return receivables.invoice_balance(invoice) if known is None else known


def _page(stmt, model, args):
    if args["customer_id"]:
        stmt = stmt.where(model.customer_id == args["customer_id"])
    if args["status"]:
        stmt = stmt.where(model.status == args["status"])
    page = keyset_page(scoped(stmt, model, "sales"), [model.id.desc()], after=args["after"],
                       size=args["size"])
    return {"items": page.items, "next": page.next_token}


def _quote_out(quote: Quote) -> dict:
    version = quote.current
    order = quote_services.order_of(quote)
    return {**{k: getattr(quote, k) for k in ("id", "reference", "customer_id", "deal_id",
                                                "owner_id", "status", "version",
                                                "created_at")},
            **{k: getattr(version, k) for k in ("issue_date", "valid_until", "notes",
                                                  "needs_approval", "lines", "gross",
                                                  "line_discounts", "document_discount",
                                                  "taxable", "vat", "total")},
            "order_id": order.id if order else None}


def _lines(items) -> list[dict] | None:
    return None if items is None else [dict(item) for item in items]


# --- quotes --------------------------------------------------------------------------------

@bp.route("/quotes")
class Quotes(MethodView):
    @require_permission("sales.view")
    @bp.arguments(ListArgs, location="query")
    @bp.response(200, _page_schema(QuoteOut))
    def get(self, args):
        """Quotes the user may see, newest first."""
        page = _page(select(Quote), Quote, args)
        page["items"] = [_quote_out(q) for q in page["items"]]
        return page

    @require_permission("sales.work")
    @bp.arguments(QuoteIn)
    @bp.response(201, QuoteOut)
    def post(self, data):
        """Make a quote (draft, or awaiting approval when discounted beyond your limit)."""
        customer = _customer(data["customer_id"])
        try:
            quote = quote_services.create_quote(
                customer, _lines(data["lines"]), by=current_user,
                valid_until=data["valid_until"], notes=data["notes"],
                discount=data["discount"], deal_id=data["deal_id"])
        except DocumentError as exc:
            _refuse(exc)
        db.session.commit()
        return _quote_out(quote)


@bp.route("/quotes/<int:quote_id>")
class QuoteItem(MethodView):
    @require_permission("sales.view")
    @bp.response(200, QuoteOut)
    def get(self, quote_id):
        """One quote with its current version."""
        return _quote_out(get_scoped_or_404(Quote, quote_id, "sales"))


# --- invoices ------------------------------------------------------------------------------

@bp.route("/invoices")
class Invoices(MethodView):
    @require_permission("sales.view")
    @bp.arguments(ListArgs, location="query")
    @bp.response(200, InvoicePage)
    def get(self, args):
        """Invoices and credit notes the user may see, newest first."""
        page = _page(select(Invoice).options(selectinload(Invoice.lines)), Invoice, args)
        balances = receivables.balances(page["items"])
        for invoice in page["items"]:
            found = balances.get(invoice.id)
            invoice.known_balance = found.balance if found else 0
        return respond(InvoicePage, page)

    @require_permission("sales.work")
    @idempotent
    @bp.arguments(InvoiceIn)
    @bp.response(201, InvoiceOut)
    def post(self, data):
        """Make a draft invoice (directly, from ``order_id``, or correcting ``original_id``);
        ``post: true`` posts it at once."""
        try:
            if data["order_id"]:
                order = get_scoped_or_404(Order, data["order_id"], "sales")
                invoice = invoice_services.invoice_from_order(order, by=current_user)
            else:
                if data["customer_id"] is None or data["lines"] is None:
                    abort(422, message=_("Some fields are invalid; see 'errors'."), errors={
                        k: _("Missing data for required field.")
                        for k in ("customer_id", "lines") if data[k] is None})
                customer = _customer(data["customer_id"])
                original = (get_scoped_or_404(Invoice, data["original_id"], "sales")
                            if data["original_id"] else None)
                invoice = invoice_services.create_invoice(
                    customer, _lines(data["lines"]), by=current_user,
                    due_date=data["due_date"], notes=data["notes"],
                    discount=data["discount"], original=original)
            if data["post"]:
                invoice = invoice_services.post_invoice(invoice.id, by=current_user)
        except DocumentError as exc:
            _refuse(exc)
        commit_unless_keyed()
        return invoice


@bp.route("/invoices/<int:invoice_id>")
class InvoiceItem(MethodView):
    @require_permission("sales.view")
    @bp.response(200, InvoiceOut)
    def get(self, invoice_id):
        """One invoice or credit note, with its balance."""
        return get_scoped_or_404(Invoice, invoice_id, "sales")

    @require_permission("sales.work")
    @bp.arguments(InvoiceChanges)
    @bp.response(200, InvoiceOut)
    def patch(self, data, invoice_id):
        """Change a draft (a posted invoice answers 409)."""
        invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
        try:
            invoice_services.update_invoice(invoice, _lines(data["lines"]),
                                            due_date=data["due_date"], notes=data["notes"],
                                            discount=data["discount"])
        except DocumentError as exc:
            _refuse(exc)
        db.session.commit()
        return invoice

    @require_permission("sales.work")
    @bp.response(204)
    def delete(self, invoice_id):
        """Throw a draft away (a posted invoice answers 409)."""
        invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
        try:
            invoice_services.delete_draft(invoice)
        except DocumentError as exc:
            _refuse(exc)
        db.session.commit()


@bp.route("/invoices/<int:invoice_id>/post")
class InvoicePost(MethodView):
    @require_permission("sales.work")
    @bp.response(200, InvoiceOut)
    def post(self, invoice_id):
        """Post a draft: it gets the next number of its fiscal year and becomes immutable."""
        get_scoped_or_404(Invoice, invoice_id, "sales")
        try:
            invoice = invoice_services.post_invoice(invoice_id, by=current_user)
        except DocumentError as exc:
            _refuse(exc)
        db.session.commit()
        return invoice


@bp.route("/invoices/<int:invoice_id>/credit-notes")
class InvoiceCredit(MethodView):
    @require_permission("sales.work")
    @idempotent
    @bp.arguments(CreditNoteIn)
    @bp.response(201, InvoiceOut)
    def post(self, data, invoice_id):
        """Make a credit note against a posted invoice (all of it unless lines are given)."""
        original = get_scoped_or_404(Invoice, invoice_id, "sales")
        try:
            note = invoice_services.create_credit_note(
                original, _lines(data["lines"]), by=current_user, notes=data["notes"],
                discount=data["discount"])
            if data["post"]:
                note = invoice_services.post_invoice(note.id, by=current_user)
        except DocumentError as exc:
            _refuse(exc)
        commit_unless_keyed()
        return note


@bp.route("/invoices/<int:invoice_id>/pdf")
class InvoicePdf(MethodView):
    @require_permission("sales.view")
    @bp.response(200, content_type="application/pdf")
    def get(self, invoice_id):
        """The invoice as a Persian PDF."""
        invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
        return Response(pdf.invoice_pdf(invoice), mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{pdf.filename(invoice)}"'})


# --- payments ------------------------------------------------------------------------------

@bp.route("/payments")
class Payments(MethodView):
    @require_permission("sales.view")
    @bp.arguments(ListArgs, location="query")
    @bp.response(200, _page_schema(PaymentOut))
    def get(self, args):
        """Payments the user may see, newest first."""
        return _page(select(Payment), Payment, args)

    @require_permission("sales.work")
    @idempotent
    @bp.arguments(PaymentIn)
    @bp.response(201, PaymentOut)
    def post(self, data):
        """Record a payment; cheques need a Sayad number, bank and due date."""
        customer = _customer(data["customer_id"])
        wanted = None
        if data["allocations"] is not None:
            wanted = [(db.session.execute(scoped(select(Invoice).where(
                Invoice.id == item["invoice_id"]), Invoice, "sales")).scalar(), item["amount"])
                for item in data["allocations"]]
        try:
            payment = payment_services.record_payment(
                customer, amount=data["amount"], method=data["method"], by=current_user,
                received_on=data["received_on"], reference=data["reference"],
                note=data["note"], sayad_number=data["sayad_number"], bank=data["bank"],
                cheque_due_date=data["cheque_due_date"], allocations=wanted)
        except DocumentError as exc:
            _refuse(exc)
        commit_unless_keyed()
        return payment


@bp.route("/payments/<int:payment_id>")
class PaymentItem(MethodView):
    @require_permission("sales.view")
    @bp.response(200, PaymentOut)
    def get(self, payment_id):
        """One payment with its allocations."""
        return get_scoped_or_404(Payment, payment_id, "sales")


@bp.route("/payments/<int:payment_id>/status")
class PaymentStatus(MethodView):
    @require_permission("sales.work")
    @bp.arguments(ChequeStatusIn)
    @bp.response(200, PaymentOut)
    def post(self, data, payment_id):
        """Move a cheque to deposited, cleared or bounced."""
        payment = get_scoped_or_404(Payment, payment_id, "sales")
        try:
            payment_services.set_cheque_status(payment, data["status"], by=current_user)
        except DocumentError as exc:
            _refuse(exc)
        db.session.commit()
        return payment


def register(app) -> None:
    from core.extensions import api

    api.register_blueprint(bp, app=app)
