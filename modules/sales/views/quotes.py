"""Quote pages: list, the line editor, approval, sending, answers, the public answer link."""

import re

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, or_, select

from core.auth.permissions import public, require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers.models import Customer
from core.extensions import db
from core.i18n import digits, normalize, to_latin_digits
from core.pagination import request_page
from modules.sales import lines as doc_lines
from modules.sales import pdf, quote_coupons
from modules.sales import quotes as services
from modules.sales.lines import DocumentError
from modules.sales.listing import named_rows
from modules.sales.models.documents import QUOTE_STATUSES, Quote, QuoteVersion
from modules.sales.views import bp
from modules.sales.views.document_forms import AnswerForm, QuoteForm, SendQuoteForm, prepare
from modules.sales.views.rules import take_suggestion

# --- the line editor (shared with invoices) --------------------------------------------------

def customer_in_scope(customer_id) -> Customer | None:
    if not customer_id:
        return None
    return db.session.execute(scoped(select(Customer).where(Customer.id == customer_id),
                                     Customer, "customers")).scalar()


def fill_from(form, items: list[dict], *, discount: int = 0, notes: str = "") -> None:
    """Show lines (``lines.as_items`` of a stored document) and terms in an empty form."""
    while len(form.lines) < len(items):
        form.lines.append_entry()
    for entry, item in zip(form.lines, items, strict=False):
        line = entry.form
        line.product_id.data = item["product_id"]
        line.description.data = item["description"]
        line.quantity.data = digits(doc_lines.totals.quantity_text(doc_lines.to_quantity(
            item["quantity"])))
        line.unit.data = item["unit"]
        line.unit_price.data = item["unit_price"]
        line.discount_percent.data = digits(doc_lines.percent_plain(
            doc_lines.to_basis_points(item["discount_percent"])))
    form.discount.data = discount or None
    form.notes.data = notes


def work_lines(form, customer, day):
    """Handle "add a line" and "recalculate"; returns (action, kept indexes, preview).

    The preview is (checked lines, totals) when the lines read well, with the price-list
    prices and product units filled into the empty fields.
    """
    action = request.form.get("action", "save") if request.method == "POST" else "show"
    action = take_suggestion(form, action)  # "suggest-<id>": a line for that product
    if action == "add":
        form.lines.append_entry()
    kept = form.kept_lines()
    if action in ("add", "recalc"):
        form.lines.entries = [e for e in form.lines.entries
                              if not e.form.remove.data] or form.lines.entries[:1]
    preview = None
    if request.method == "POST" and customer is not None and kept:
        try:
            checked = doc_lines.read_lines([f.item() for _i, f in kept], customer, day)
            for (_i, line_form), line in zip(kept, checked, strict=True):
                if line_form.unit_price.data is None:
                    line_form.unit_price.data, line_form.unit_price.raw_data = line.unit_price, []
                if not (line_form.unit.data or "").strip():
                    line_form.unit.data, line_form.unit.raw_data = line.unit, []
                if not (line_form.description.data or "").strip():
                    line_form.description.data = line.description
                    line_form.description.raw_data = []
            preview = (checked, doc_lines.compute(checked, form.discount.data or 0))
        except DocumentError as exc:
            if action != "save":
                form.put_errors(exc.errors, [i for i, _f in kept])
    prepare(form, customer.id if customer else None)
    return action, [i for i, _f in kept], preview


def items_of(form) -> list[dict]:
    return [line.item() for _i, line in form.kept_lines()]


# --- list ----------------------------------------------------------------------------------

def reference_condition(model, q: str):
    """``1404-12`` (fiscal year and number) or a bare number, as a condition; else None."""
    text = to_latin_digits(q).strip()
    match = re.fullmatch(r"(\d{4})\s*[-/]\s*(\d{1,9})", text)
    if match:
        return and_(model.fiscal_year == int(match[1]), model.number == int(match[2]))
    if text.isdigit() and len(text) <= 9:
        return model.number == int(text)
    return None


def search_documents(stmt, model, q: str):
    """Documents whose customer's name (normalised) or whose reference matches ``q``."""
    q = (q or "").strip()
    if not q:
        return stmt
    conditions = [Customer.search_key.like(f"%{normalize(q)}%")]
    by_reference = reference_condition(model, q)
    if by_reference is not None:
        conditions.append(by_reference)
    return stmt.where(or_(*conditions))


@bp.route("/quotes/")
@require_permission("sales.view")
def quote_index():
    """Quotes the user may see: search by customer or number, filter by status."""
    status = request.args.get("status") or None
    # rows of what the list shows, the current version's dates and total joined in
    stmt = scoped(select(
        Quote.id, Quote.fiscal_year, Quote.number, Quote.version, Quote.status,
        Customer.display_name.label("customer_name"), QuoteVersion.valid_until,
        QuoteVersion.total, QuoteVersion.issue_date)
        .join(Customer, Customer.id == Quote.customer_id)
        .join(QuoteVersion, and_(QuoteVersion.quote_id == Quote.id,
                                 QuoteVersion.version == Quote.version)), Quote, "sales")
    stmt = search_documents(stmt, Quote, request.args.get("q", ""))
    if status in QUOTE_STATUSES:
        stmt = stmt.where(Quote.status == status)
    page = named_rows(request_page(stmt, [Quote.id.desc()]), stmt)
    return render_template("sales/quotes.html", page=page, status=status,
                           statuses=QUOTE_STATUSES, labels=services.status_labels())


# --- create and edit -----------------------------------------------------------------------

@bp.route("/quotes/new", methods=["GET", "POST"])
@require_permission("sales.work")
def quote_new():
    """Build a quote: customer, lines with price-list prices, discounts, validity."""
    form = QuoteForm()
    if request.method == "GET":
        form.customer_id.data = request.args.get("customer_id", type=int)
        deal = _deal(request.args.get("deal_id", type=int))
        if deal is not None:
            _fill_from_deal(form, deal)
    else:
        deal = _deal(form.deal_id.data)
    customer = customer_in_scope(form.customer_id.data)
    action, kept, preview = work_lines(form, customer, services.today())
    if action == "save" and form.validate_on_submit():
        if customer is None:
            form.customer_id.errors = [*form.customer_id.errors, _("Choose the customer.")]
        else:
            try:
                quote = services.create_quote(customer, items_of(form), by=current_user,
                                              valid_until=form.valid_until.data,
                                              notes=form.notes.data,
                                              discount=form.discount.data or 0,
                                              deal_id=deal.id if deal else None)
            except DocumentError as exc:
                db.session.rollback()
                form.put_errors(exc.errors, kept)
            else:
                db.session.commit()
                _flash_saved(quote)
                return redirect(url_for("sales.quote_show", quote_id=quote.id))
    return render_template("sales/quote_form.html", form=form, quote=None, customer=customer,
                           preview=preview, deal=deal)


def _deal(deal_id):
    """The deal a new quote is for, if the user may see it."""
    from modules.sales.models.pipeline import Deal

    return get_scoped_or_404(Deal, deal_id, "sales") if deal_id else None


def _fill_from_deal(form, deal) -> None:
    """A quote for a deal starts with the deal's customer and products."""
    form.deal_id.data = deal.id
    form.customer_id.data = deal.customer_id
    items = [{"product_id": line.product_id, "description": "", "unit": "",
              "quantity": line.quantity, "unit_price": line.unit_price or None,
              "discount_percent": 0} for line in deal.lines]
    if items:
        fill_from(form, items)


def _flash_saved(quote: Quote) -> None:
    if quote.status == "awaiting_approval":
        flash(_("Quote %(ref)s saved. Its discounts are above your limit, so it waits for a "
                "manager's approval before it can be sent.", ref=digits(quote.reference)),
              "warning")
    else:
        flash(_("Quote %(ref)s saved.", ref=digits(quote.reference)), "success")


@bp.route("/quotes/<int:quote_id>/edit", methods=["GET", "POST"])
@require_permission("sales.work")
def quote_edit(quote_id: int):
    """Change a quote; once sent, the change becomes its next version."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    if quote.status not in services.EDITABLE:
        flash(_("Quote %(ref)s was %(status)s and cannot change any more.",
                ref=digits(quote.reference), status=services.status_label(quote.status)), "danger")
        return redirect(url_for("sales.quote_show", quote_id=quote.id))
    form = QuoteForm()
    coupon = quote_coupons.applied(quote)
    if request.method == "GET":
        version = quote.current
        fill_from(form, doc_lines.as_items(version), discount=quote_coupons.manual_discount(
            quote), notes=version.notes)
        form.valid_until.data = quote.current.valid_until
    form.customer_id.data = quote.customer_id
    action, kept, preview = work_lines(form, quote.customer, services.today())
    if action == "save" and form.validate_on_submit():
        try:
            services.update_quote(quote, items_of(form), by=current_user,
                                  valid_until=form.valid_until.data, notes=form.notes.data,
                                  discount=form.discount.data or 0)
        except DocumentError as exc:
            db.session.rollback()
            form.put_errors(exc.errors, kept)
        else:
            warning = quote_coupons.reapply(quote, coupon.code if coupon else None)
            db.session.commit()
            _flash_saved(quote)
            if warning:
                flash(warning, "warning")
            return redirect(url_for("sales.quote_show", quote_id=quote.id))
    return render_template("sales/quote_form.html", form=form, quote=quote,
                           customer=quote.customer, preview=preview, coupon=coupon)


# --- one quote -----------------------------------------------------------------------------

@bp.route("/quotes/<int:quote_id>")
@require_permission("sales.view")
def quote_show(quote_id: int):
    """A quote: its current (or an earlier) version, status and what can be done next."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    number = request.args.get("version", type=int) or quote.version
    version = next((v for v in quote.versions if v.version == number), quote.current)
    send_form = SendQuoteForm()
    send_form.to.data = quote.customer.email or ""
    return render_template("sales/quote_show.html", quote=quote, version=version,
                           send_form=send_form, answer_form=AnswerForm(),
                           order=services.order_of(quote), label=services.status_label,
                           coupon=quote_coupons.applied(quote),
                           takes_coupons=quote_coupons.club_active(),
                           coupon_states=quote_coupons.ACCEPTS_COUPON,
                           tier_offer=quote_coupons.tier_offer(quote)
                           if quote.status in quote_coupons.ACCEPTS_COUPON else None)


@bp.route("/quotes/<int:quote_id>/pdf")
@require_permission("sales.view")
def quote_pdf(quote_id: int):
    """The quote's current version as a Persian PDF."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    return _pdf_response(pdf.quote_pdf(quote), pdf.filename(quote))


def _pdf_response(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _act(quote: Quote, do, done: str):
    try:
        result = do()
    except DocumentError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "danger")
        return redirect(url_for("sales.quote_show", quote_id=quote.id))
    db.session.commit()
    flash(done, "success")
    return result


@bp.route("/quotes/<int:quote_id>/approve", methods=["POST"])
@require_permission("sales.manage")
def quote_approve(quote_id: int):
    """A manager approves the discounts of the current version."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    _act(quote, lambda: services.approve_quote(quote, by=current_user),
         _("Discounts approved; the quote can be sent."))
    return redirect(url_for("sales.quote_show", quote_id=quote.id))


@bp.route("/quotes/<int:quote_id>/send", methods=["POST"])
@require_permission("sales.work")
def quote_send(quote_id: int):
    """Email the quote with its PDF and an answer link."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    form = SendQuoteForm()
    if not form.validate_on_submit():
        flash(_("The form expired; send it again."), "danger")
        return redirect(url_for("sales.quote_show", quote_id=quote.id))
    to = (form.to.data or "").strip()
    _act(quote, lambda: services.send_quote(quote, to, by=current_user,
                                            message=form.message.data or ""),
         _("Quote sent to %(email)s.", email=to))
    return redirect(url_for("sales.quote_show", quote_id=quote.id))


@bp.route("/quotes/<int:quote_id>/answer", methods=["POST"])
@require_permission("sales.work")
def quote_answer(quote_id: int):
    """Record the customer's answer given by phone or in person."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    form = AnswerForm()
    accept = request.form.get("answer") == "accept"
    if form.validate_on_submit():
        _act(quote, lambda: services.answer(quote, accept, form.note.data or "",
                                            by=current_user),
             _("Accepted: the order is ready to invoice.") if accept else _("Marked rejected."))
    return redirect(url_for("sales.quote_show", quote_id=quote.id))


@bp.route("/quotes/<int:quote_id>/cancel", methods=["POST"])
@require_permission("sales.work")
def quote_cancel(quote_id: int):
    """Withdraw the quote."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    _act(quote, lambda: services.cancel_quote(quote), _("Quote cancelled."))
    return redirect(url_for("sales.quote_show", quote_id=quote.id))


# --- the customer's answer link ------------------------------------------------------------

def _public_quote(token: str) -> Quote:
    quote = services.by_token(token)
    if quote is None:
        abort(404, _("This link is not valid any more: the quote was changed or withdrawn. "
                     "Ask us for the current one."))
    return quote


@bp.route("/q/<token>", methods=["GET", "POST"])
@public
def quote_public(token: str):
    """The customer reads the quote and accepts or rejects it (no sign-in; once)."""
    quote = _public_quote(token)
    form = AnswerForm()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        accept = request.form.get("answer") == "accept"
        try:
            services.answer(quote, accept, form.note.data or "")
        except DocumentError as exc:
            db.session.rollback()
            error = " ".join(exc.errors.values())
        else:
            db.session.commit()
            return redirect(url_for("sales.quote_public", token=token))
    version: QuoteVersion = quote.current
    return render_template("sales/quote_public.html", quote=quote, version=version, form=form,
                           token=token, error=error, label=services.status_label,
                           crm_minimal=True)


@bp.route("/q/<token>/pdf")
@public
def quote_public_pdf(token: str):
    """The quote's PDF for the customer holding the link."""
    quote = _public_quote(token)
    return _pdf_response(pdf.quote_pdf(quote), pdf.filename(quote))
