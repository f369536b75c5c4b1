"""Accounting-link pages: the journal (filters, entries with their lines), one entry with its
document and its reversal, the reverse action, and the trial balance of any Jalali period."""

import csv
import io
from datetime import date, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from core.auth.permissions import require_permission
from core.customers.models import Customer
from core.database import utcnow
from core.extensions import db
from core.i18n import (
    current_locale,
    digits,
    fiscal_year_of,
    fiscal_year_range,
    jdate,
    local_date,
    normalize,
    parse_jalali_date,
    to_latin_digits,
    to_persian_digits,
)
from core.money import UNIT_WORDS
from core.pagination import request_page
from modules.accounting_link import journal as services
from modules.accounting_link.models.journal import (
    SOURCE_KINDS,
    Account,
    JournalEntry,
    JournalLine,
)
from modules.accounting_link.views import bp


class ReverseForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=250)],
                           description=_l("Why this entry is wrong; it becomes the "
                                          "description of the reversing entry."))


def kind_labels() -> dict[str, str]:
    return {"invoice": _("Invoice"), "credit_note": _("Credit note"), "payment": _("Payment"),
            "cheque": _("Cheque status"), "points_issued": _("Points issued"),
            "points_redeemed": _("Points redeemed"), "points_expired": _("Points expired"),
            "points_reversed": _("Points taken back"), "reversal": _("Reversal"),
            "manual": _("Manual")}


def _date_arg(name: str, errors: dict) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return parse_jalali_date(text)
    except ValueError as exc:
        errors[name] = str(exc) or _("Enter a Jalali date like 1403/01/15.")
        return None


def _int_arg(name: str) -> int | None:
    try:
        return int(to_latin_digits(request.args.get(name) or "")) or None
    except ValueError:
        return None


def period_from_args() -> tuple[date, date, dict]:
    """The Jalali period of ``?from=&to=``; the current fiscal year by default."""
    errors: dict[str, str] = {}
    start, end = _date_arg("from", errors), _date_arg("to", errors)
    today = local_date(utcnow())
    year_start, next_start = fiscal_year_range(fiscal_year_of(today))
    start = start or year_start
    end = end or next_start - timedelta(days=1)
    if start > end:
        errors["to"] = _("The period ends before it starts.")
    return start, end, errors


@bp.route("/journal")
@require_permission("accounting_link.view")
def journal():
    """Journal entries, newest first: by period, kind, account, customer or reference."""
    errors: dict[str, str] = {}
    start, end = _date_arg("from", errors), _date_arg("to", errors)
    kind = request.args.get("kind") or None
    account_id = _int_arg("account")
    customer_id = _int_arg("customer_id")
    customer_q = (request.args.get("customer") or "").strip()
    q = (request.args.get("q") or "").strip()
    stmt = select(JournalEntry)
    if start:
        stmt = stmt.where(JournalEntry.entry_date >= start)
    if end:
        stmt = stmt.where(JournalEntry.entry_date <= end)
    if kind in SOURCE_KINDS:
        stmt = stmt.where(JournalEntry.kind == kind)
    if account_id:
        stmt = stmt.where(JournalEntry.id.in_(
            select(JournalLine.entry_id).where(JournalLine.account_id == account_id)))
    if customer_id:
        stmt = stmt.where(JournalEntry.customer_id == customer_id)
    elif customer_q:
        stmt = stmt.where(JournalEntry.customer_id.in_(select(Customer.id).where(
            Customer.search_key.like(f"%{normalize(customer_q)}%"))))
    if q:
        latin, persian = to_latin_digits(q), to_persian_digits(to_latin_digits(q))
        stmt = stmt.where(JournalEntry.reference.contains(latin)
                          | JournalEntry.reference.contains(persian))
    # the lines' accounts are not joined in row by row: every account is loaded below for
    # the filter, and ``line.account`` then finds it in the session without a query
    stmt = stmt.options(selectinload(JournalEntry.lines).lazyload(JournalLine.account))
    page = request_page(stmt, [JournalEntry.entry_date.desc(), JournalEntry.id.desc()])
    customers = _customer_names({e.customer_id for e in page})
    accounts = list(db.session.execute(select(Account).order_by(Account.code)).scalars())
    filtered = any((start, end, kind, account_id, customer_id, customer_q, q))
    return render_template("accounting_link/journal.html", page=page, errors=errors,
                           kind=kind, kinds=kind_labels(), accounts=accounts,
                           account_id=account_id, customers=customers, filtered=filtered)


def _customer_names(ids) -> dict[int, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return dict(db.session.execute(
        select(Customer.id, Customer.display_name).where(Customer.id.in_(ids))).all())


def document_link(entry: JournalEntry) -> tuple[str, str] | None:
    """(url, label) of the document an entry comes from, when its page exists."""
    from flask import current_app

    endpoints = current_app.view_functions
    if entry.source_id is None:
        return None
    if entry.source_type == "sales.invoice" and "sales.invoice_show" in endpoints:
        return (url_for("sales.invoice_show", invoice_id=entry.source_id),
                _("Open the invoice"))
    if entry.source_type == "sales.payment" and "sales.payment_show" in endpoints:
        return (url_for("sales.payment_show", payment_id=entry.source_id),
                _("Open the payment"))
    if entry.source_type == "loyalty.entry":
        member_id = _member_of(entry.customer_id)
        if member_id and "loyalty.member" in endpoints:
            return url_for("loyalty.member", member_id=member_id), _("Open the club member")
        if entry.customer_id and "customers.show" in endpoints:
            return (url_for("customers.show", customer_id=entry.customer_id),
                    _("Open the customer"))
    return None


def _member_of(customer_id: int | None) -> int | None:
    table = db.metadata.tables.get("loyalty_member")
    if table is None or customer_id is None:
        return None
    return db.session.execute(select(table.c.id).where(table.c.customer_id == customer_id)
                              .limit(1)).scalar()


@bp.route("/journal/<int:entry_id>", methods=["GET", "POST"])
@require_permission("accounting_link.view")
def entry(entry_id: int):
    """One entry: its lines, its document, the entry it reverses or that reverses it."""
    found = db.session.get(JournalEntry, entry_id) or abort(404)
    form = ReverseForm()
    customer = db.session.get(Customer, found.customer_id) if found.customer_id else None
    return render_template("accounting_link/entry.html", entry=found, form=form,
                           kinds=kind_labels(), customer=customer,
                           document=document_link(found),
                           reversed_by=services.reversal_of(found))


@bp.route("/journal/<int:entry_id>/reverse", methods=["POST"])
@require_permission("accounting_link.manage")
def entry_reverse(entry_id: int):
    """Reverse an entry with a stated reason; the entry itself never changes."""
    found = db.session.get(JournalEntry, entry_id) or abort(404)
    form = ReverseForm()
    if not form.validate_on_submit():
        flash(_("Say why the entry is reversed."), "danger")
        return redirect(url_for("accounting_link.entry", entry_id=found.id))
    if services.reversal_of(found) is not None:
        flash(_("This entry is already reversed."), "warning")
        return redirect(url_for("accounting_link.entry", entry_id=found.id))
    try:
        reversal = services.reverse_entry(found, reason=" ".join(form.reason.data.split()),
                                          by=current_user)
    except services.JournalError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("accounting_link.entry", entry_id=entry_id))
    db.session.commit()
    flash(_("Entry %(ref)s reversed by entry %(new)s.", ref=digits(found.reference_label),
            new=digits(reversal.reference_label)), "success")
    return redirect(url_for("accounting_link.entry", entry_id=reversal.id))


@bp.route("/trial-balance")
@require_permission("accounting_link.view")
def trial_balance():
    """Per account: opening, debits, credits and closing for a Jalali period; CSV too."""
    start, end, errors = period_from_args()
    rows, totals = services.trial_balance(start, end) if not errors else ([], None)
    if request.args.get("format") == "csv" and not errors:
        return _csv(rows, totals, start, end)
    return render_template("accounting_link/trial_balance.html", rows=rows, totals=totals,
                           start=start, end=end, errors=errors)


def _csv(rows, totals, start: date, end: date) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    unit = UNIT_WORDS[current_locale()]["rial"]  # whole rials, whatever unit the pages show
    writer.writerow([_("Code"), _("Ledger account"), _("Kind")] + [
        _("%(column)s (%(unit)s)", column=column, unit=unit)
        for column in (_("Opening"), _("Debits"), _("Credits"), _("Closing"))])
    for row in [*rows, totals]:
        name = row.account.name if row is not totals else _("Total")
        writer.writerow([row.account.code, name, row.account.kind, row.opening, row.debits,
                         row.credits, row.closing])
    name = "trial-balance-{}-{}.csv".format(jdate(start, locale="en").replace("/", ""),
                                             jdate(end, locale="en").replace("/", ""))
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
