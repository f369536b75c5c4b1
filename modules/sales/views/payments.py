"""Payment pages: record a payment (cash, card, transfer, cheque), follow cheques, receivables."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers.models import Customer
from core.extensions import db
from core.i18n import digits, normalize
from core.money import format_money
from core.pagination import request_page
from modules.sales import payments as services
from modules.sales import receivables
from modules.sales.lines import DocumentError
from modules.sales.models.documents import Invoice
from modules.sales.models.payments import CHEQUE_FLOW, METHODS, Payment
from modules.sales.quotes import today
from modules.sales.views import bp
from modules.sales.views.document_forms import PaymentForm, customer_choices
from modules.sales.views.quotes import customer_in_scope

FIELDS = ("amount", "method", "received_on", "reference", "note", "sayad_number", "bank",
          "cheque_due_date")


@bp.route("/payments/")
@require_permission("sales.view")
def payment_index():
    """Payments the user may see: search by customer, filter by method and cheque status."""
    method = request.args.get("method") or None
    status = request.args.get("status") or None
    stmt = scoped(select(Payment).join(Customer, Customer.id == Payment.customer_id),
                  Payment, "sales")
    q = (request.args.get("q") or "").strip()
    if q:
        stmt = stmt.where(Customer.search_key.like(f"%{normalize(q)}%")
                          | (Payment.sayad_number == normalize(q)))
    if method in METHODS:
        stmt = stmt.where(Payment.method == method)
    if status in CHEQUE_FLOW:
        stmt = stmt.where(Payment.status == status)
    return render_template("sales/payments.html", page=request_page(stmt, [Payment.id.desc()]),
                           method=method, status=status, methods=METHODS,
                           statuses=tuple(CHEQUE_FLOW), method_label=services.method_label,
                           status_label=services.status_label)


def _open_invoice_choices(customer) -> list[tuple]:
    choices = [(0, _("The oldest open invoices first"))]
    for invoice, owed in receivables.open_invoices(customer.id) if customer else ():
        choices.append((invoice.id, _("Invoice %(ref)s — %(owed)s owed",
                                      ref=digits(invoice.reference), owed=format_money(owed))))
    return choices


@bp.route("/payments/new", methods=["GET", "POST"])
@require_permission("sales.work")
def payment_new():
    """Record a payment; it settles the chosen invoice or the oldest open ones."""
    form = PaymentForm()
    if request.method == "GET":
        form.customer_id.data = request.args.get("customer_id", type=int)
        form.invoice_id.data = request.args.get("invoice_id", type=int)
        invoice = db.session.get(Invoice, form.invoice_id.data or 0)
        if invoice is not None and form.amount.data is None:
            form.amount.data = receivables.invoice_balance(invoice) or None
    customer = customer_in_scope(form.customer_id.data)
    form.customer_id.choices = customer_choices(customer.id if customer else None)
    form.invoice_id.choices = _open_invoice_choices(customer)
    if request.method == "POST" and request.form.get("action") == "save" \
            and form.validate_on_submit():
        if customer is None:
            form.customer_id.errors = [*form.customer_id.errors, _("Choose the customer.")]
        else:
            payment = _record(form, customer)
            if payment is not None:
                return redirect(url_for("sales.payment_show", payment_id=payment.id))
    return render_template("sales/payment_form.html", form=form, customer=customer,
                           balance=receivables.customer_balance(customer.id) if customer
                           else None)


def _record(form: PaymentForm, customer) -> Payment | None:
    invoice = None
    if form.invoice_id.data:
        invoice = db.session.execute(scoped(select(Invoice).where(
            Invoice.id == form.invoice_id.data), Invoice, "sales")).scalar()
    allocations = None
    if invoice is not None:
        owed = receivables.invoice_balance(invoice)
        allocations = [(invoice, min(owed, form.amount.data or 0))]
    values = {name: getattr(form, name).data for name in FIELDS}
    try:
        payment = services.record_payment(customer, by=current_user, allocations=allocations,
                                          **values)
    except DocumentError as exc:
        db.session.rollback()
        for key, message in exc.errors.items():
            field = getattr(form, key if key in FIELDS else "invoice_id", None)
            if key.startswith("allocations") or field is None:
                form.invoice_id.errors = [*form.invoice_id.errors, message]
            else:
                field.errors = [*field.errors, message]
        return None
    db.session.commit()
    flash(_("Payment of %(amount)s recorded.", amount=format_money(payment.amount)), "success")
    return payment


@bp.route("/payments/<int:payment_id>")
@require_permission("sales.view")
def payment_show(payment_id: int):
    """A payment, what it settles, and (for a cheque) where it is now."""
    payment = get_scoped_or_404(Payment, payment_id, "sales")
    return render_template("sales/payment_show.html", payment=payment,
                           next_statuses=CHEQUE_FLOW.get(payment.status, ())
                           if payment.method == "cheque" else (),
                           method_label=services.method_label,
                           status_label=services.status_label)


@bp.route("/payments/<int:payment_id>/status", methods=["POST"])
@require_permission("sales.work")
def payment_status(payment_id: int):
    """Move a cheque to deposited, cleared or bounced."""
    payment = get_scoped_or_404(Payment, payment_id, "sales")
    status = request.form.get("status", "")
    try:
        services.set_cheque_status(payment, status, by=current_user)
    except DocumentError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "danger")
    else:
        db.session.commit()
        if status == "bounced":
            flash(_("Cheque marked bounced: what it paid is owed again."), "warning")
        else:
            flash(_("Cheque is now %(status)s.", status=services.status_label(status)), "success")
    return redirect(url_for("sales.payment_show", payment_id=payment.id))


@bp.route("/receivables")
@require_permission("sales.view")
def receivable_index():
    """What customers owe, by the Jalali month each invoice was issued (aging)."""
    months = request.args.get("months", type=int) or 6
    months = max(1, min(months, 24))
    stmt = scoped(select(Invoice), Invoice, "sales")
    report = receivables.aging(stmt, as_of=today(), months=months)
    return render_template("sales/receivables.html", report=report, months=months)
