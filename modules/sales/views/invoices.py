"""Invoice pages: list, drafts, posting, PDF, credit notes and corrective invoices; orders."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers.models import Customer
from core.extensions import db
from core.pagination import request_page
from modules.sales import invoices as services
from modules.sales import lines as doc_lines
from modules.sales import pdf, receivables
from modules.sales.lines import DocumentError
from modules.sales.listing import InvoiceRow, named_rows
from modules.sales.models.documents import ORDER_STATUSES, Invoice, Order
from modules.sales.models.payments import Payment, PaymentAllocation
from modules.sales.quotes import today
from modules.sales.views import bp
from modules.sales.views.document_forms import InvoiceForm
from modules.sales.views.quotes import (
    _pdf_response,
    customer_in_scope,
    fill_from,
    items_of,
    search_documents,
    work_lines,
)

FILTERS = {"draft": (Invoice.status == "draft",), "posted": (Invoice.status == "posted",),
           "credit_note": (Invoice.kind == "credit_note",)}


@bp.route("/invoices/")
@require_permission("sales.view")
def invoice_index():
    """Invoices and credit notes the user may see: search, draft/posted/credit filters."""
    show = request.args.get("show") or None
    stmt = scoped(select(*InvoiceRow.columns(Invoice, Customer))
                  .join(Customer, Customer.id == Invoice.customer_id), Invoice, "sales")
    stmt = search_documents(stmt, Invoice, request.args.get("q", ""))
    if show in FILTERS:
        stmt = stmt.where(*FILTERS[show])
    page = named_rows(request_page(stmt, [Invoice.id.desc()]), stmt, InvoiceRow)
    return render_template("sales/invoices.html", page=page, show=show,
                           balances=receivables.balances(page.items), title=services.title)


def _refuse_posted(invoice: Invoice):
    """Back to the invoice with the reason, when someone tries to change a posted one."""
    flash(services.immutable_message(invoice), "danger")
    return redirect(url_for("sales.invoice_show", invoice_id=invoice.id))


def _editor(invoice: Invoice | None, *, original: Invoice | None = None, credit: bool = False):
    """The invoice form for a new draft, a draft being changed, a credit note or a correction."""
    form = InvoiceForm()
    source = invoice or original
    if request.method == "GET":
        if source is not None:
            fill_from(form, doc_lines.as_items(source), discount=source.document_discount,
                      notes=source.notes)
            form.customer_id.data = source.customer_id
            form.due_date.data = invoice.due_date if invoice else None
            if credit or original is not None:
                form.notes.data = ""
        else:
            form.customer_id.data = request.args.get("customer_id", type=int)
    if source is not None:
        form.customer_id.data = source.customer_id
    customer = source.customer if source is not None else customer_in_scope(
        form.customer_id.data)
    action, kept, preview = work_lines(form, customer, today())
    if action == "save" and form.validate_on_submit():
        if customer is None:
            form.customer_id.errors = [*form.customer_id.errors, _("Choose the customer.")]
            return form, customer, preview, None
        values = {"notes": form.notes.data, "discount": form.discount.data or 0}
        try:
            if credit:
                saved = services.create_credit_note(original, items_of(form), by=current_user,
                                                    **values)
            elif invoice is not None:
                saved = services.update_invoice(invoice, items_of(form),
                                                due_date=form.due_date.data, **values)
            else:
                saved = services.create_invoice(customer, items_of(form), by=current_user,
                                                due_date=form.due_date.data,
                                                original=original, **values)
        except DocumentError as exc:
            db.session.rollback()
            form.put_errors(exc.errors, kept)
        else:
            db.session.commit()
            flash(_("Draft saved. Check it, then post it to give it its number."), "success")
            return form, customer, preview, saved
    return form, customer, preview, None


def _form_page(form, customer, preview, *, invoice=None, original=None, credit=False):
    return render_template("sales/invoice_form.html", form=form, customer=customer,
                           preview=preview, invoice=invoice, original=original, credit=credit)


@bp.route("/invoices/new", methods=["GET", "POST"])
@require_permission("sales.work")
def invoice_new():
    """A draft invoice made directly (not from a quote)."""
    form, customer, preview, saved = _editor(None)
    if saved is not None:
        return redirect(url_for("sales.invoice_show", invoice_id=saved.id))
    return _form_page(form, customer, preview)


@bp.route("/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@require_permission("sales.work")
def invoice_edit(invoice_id: int):
    """Change a draft; a posted invoice is refused with the reason."""
    invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
    if invoice.posted:
        return _refuse_posted(invoice)
    form, customer, preview, saved = _editor(invoice)
    if saved is not None:
        return redirect(url_for("sales.invoice_show", invoice_id=saved.id))
    return _form_page(form, customer, preview, invoice=invoice, original=invoice.original,
                      credit=invoice.kind == "credit_note")


@bp.route("/invoices/<int:invoice_id>/credit", methods=["GET", "POST"])
@require_permission("sales.work")
def invoice_credit(invoice_id: int):
    """A credit note against a posted invoice (its lines to start with; change what is due)."""
    original = get_scoped_or_404(Invoice, invoice_id, "sales")
    form, customer, preview, saved = _editor(None, original=original, credit=True)
    if saved is not None:
        return redirect(url_for("sales.invoice_show", invoice_id=saved.id))
    return _form_page(form, customer, preview, original=original, credit=True)


@bp.route("/invoices/<int:invoice_id>/correct", methods=["GET", "POST"])
@require_permission("sales.work")
def invoice_correct(invoice_id: int):
    """A corrective invoice that replaces a posted invoice once it is posted."""
    original = get_scoped_or_404(Invoice, invoice_id, "sales")
    form, customer, preview, saved = _editor(None, original=original)
    if saved is not None:
        return redirect(url_for("sales.invoice_show", invoice_id=saved.id))
    return _form_page(form, customer, preview, original=original)


@bp.route("/invoices/<int:invoice_id>")
@require_permission("sales.view")
def invoice_show(invoice_id: int):
    """An invoice or credit note: lines, totals, parties, balance, related documents."""
    invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
    related = list(db.session.execute(select(Invoice).where(
        Invoice.original_id == invoice.id).order_by(Invoice.id)).scalars())
    payments = db.session.execute(
        select(PaymentAllocation, Payment).join(Payment)
        .where(PaymentAllocation.invoice_id == invoice.id).order_by(Payment.id)).all()
    return render_template("sales/invoice_show.html", invoice=invoice, related=related,
                           payments=payments, balance=receivables.balances([invoice]).get(
                               invoice.id), parties=services.party_fields(invoice),
                           title=services.title, replaced_by=services.replaced_by(invoice)
                           if invoice.posted and invoice.kind == "invoice" else None)


@bp.route("/invoices/<int:invoice_id>/post", methods=["POST"])
@require_permission("sales.work")
def invoice_post(invoice_id: int):
    """Post the draft: it gets its number and can never change again."""
    invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
    try:
        posted = services.post_invoice(invoice.id, by=current_user)
    except DocumentError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "danger")
    else:
        db.session.commit()
        flash(_("%(title)s posted.", title=services.title(posted)), "success")
    return redirect(url_for("sales.invoice_show", invoice_id=invoice_id))


@bp.route("/invoices/<int:invoice_id>/delete", methods=["POST"])
@require_permission("sales.work")
def invoice_delete(invoice_id: int):
    """Throw a draft away."""
    invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
    if invoice.posted:
        return _refuse_posted(invoice)
    services.delete_draft(invoice)
    db.session.commit()
    flash(_("Draft deleted."), "success")
    return redirect(url_for("sales.invoice_index"))


@bp.route("/invoices/<int:invoice_id>/pdf")
@require_permission("sales.view")
def invoice_pdf(invoice_id: int):
    """The invoice as a Persian PDF (a draft is stamped as such)."""
    invoice = get_scoped_or_404(Invoice, invoice_id, "sales")
    return _pdf_response(pdf.invoice_pdf(invoice), pdf.filename(invoice))


# --- orders --------------------------------------------------------------------------------

@bp.route("/orders/")
@require_permission("sales.view")
def order_index():
    """Orders from accepted quotes: open ones wait for their invoice."""
    status = request.args.get("status") or None
    stmt = scoped(select(Order).join(Customer, Customer.id == Order.customer_id), Order, "sales")
    stmt = search_documents(stmt, Order, request.args.get("q", ""))
    if status in ORDER_STATUSES:
        stmt = stmt.where(Order.status == status)
    return render_template("sales/quote_orders.html", page=request_page(stmt, [Order.id.desc()]),
                           status=status, statuses=ORDER_STATUSES)


@bp.route("/orders/<int:order_id>")
@require_permission("sales.view")
def order_show(order_id: int):
    """An order with its lines, the quote it came from and its invoice."""
    order = get_scoped_or_404(Order, order_id, "sales")
    invoice = db.session.execute(select(Invoice).where(
        Invoice.order_id == order.id, Invoice.kind == "invoice")).scalars().first()
    return render_template("sales/quote_order.html", order=order, invoice=invoice)


@bp.route("/orders/<int:order_id>/invoice", methods=["POST"])
@require_permission("sales.work")
def order_invoice(order_id: int):
    """Make the order's draft invoice."""
    order = get_scoped_or_404(Order, order_id, "sales")
    try:
        invoice = services.invoice_from_order(order, by=current_user)
    except DocumentError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "danger")
        return redirect(url_for("sales.order_show", order_id=order.id))
    db.session.commit()
    flash(_("Draft invoice made from the order. Check it, then post it."), "success")
    return redirect(url_for("sales.invoice_show", invoice_id=invoice.id))
