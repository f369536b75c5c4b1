"""Quotes (پیش‌فاکتور): lines, discounts within the user's limit or a manager's approval,
versions, sending by email with the PDF, the customer's answer from a link, and the order.

Status flow::

    draft ── send ──> sent ──> accepted (an order is made) | rejected
    draft with a discount above the user's limit = awaiting_approval
    awaiting_approval ── a manager approves ──> approved ── send ──> sent

Editing a quote that was sent (or rejected) starts the next version and brings it back to
draft; the link in the earlier email then stops working. Functions take plain arguments;
the caller commits.
"""

import hashlib
import secrets
from datetime import date, timedelta

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core.database import get_setting, utcnow
from core.extensions import db
from core.i18n import digits, jdate, local_date
from modules.sales import lines as doc_lines
from modules.sales import numbering, totals
from modules.sales.catalog import discount_limit
from modules.sales.lines import DocumentError
from modules.sales.models.documents import Order, OrderLine, Quote, QuoteLine, QuoteVersion

EDITABLE = ("draft", "awaiting_approval", "approved", "sent", "rejected")
SENDABLE = ("draft", "approved", "sent")
DEFAULT_VALIDITY_DAYS = 14


class QuoteError(DocumentError):
    """A quote cannot be saved or cannot do that now; the message says why."""


def today() -> date:
    """Today in Tehran."""
    return local_date(utcnow())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fill_version(version: QuoteVersion, customer, items, *, by, valid_until, notes,
                  discount) -> None:
    day = version.issue_date
    errors: dict[str, str] = {}
    if valid_until is not None and valid_until < day:
        errors["valid_until"] = _("The quote cannot expire before it is issued.")
    amount = doc_lines._money(discount, "discount", errors) or 0
    try:
        checked = doc_lines.read_lines(items, customer, day)
        result = doc_lines.compute(checked, amount)
    except DocumentError as exc:
        errors.update(exc.errors)
    if errors:
        raise QuoteError(errors)
    doc_lines.store(version, QuoteLine, checked, result)
    version.valid_until = valid_until
    version.notes = (notes or "").strip()
    version.needs_approval = totals.exceeds_limit([line.input for line in checked], result,
                                                  discount_limit(by))


def create_quote(customer, items, *, by, valid_until: date | None = None, notes: str = "",
                 discount=0, deal_id: int | None = None) -> Quote:
    """A new quote for ``customer`` (draft, or awaiting approval if discounted beyond ``by``'s
    limit), numbered in the current fiscal year."""
    day = today()
    if valid_until is None:
        valid_until = day + timedelta(days=DEFAULT_VALIDITY_DAYS)
    version = QuoteVersion(version=1, issue_date=day, created_by_id=getattr(by, "id", None))
    _fill_version(version, customer, items, by=by, valid_until=valid_until, notes=notes,
                  discount=discount)
    fiscal_year = numbering.fiscal_year_for(day)
    quote = Quote(fiscal_year=fiscal_year, number=numbering.next_number("quote", fiscal_year),
                  customer_id=customer.id, deal_id=deal_id, owner_id=getattr(by, "id", None),
                  team_id=getattr(by, "team_id", None), version=1, versions=[version],
                  created_by_id=getattr(by, "id", None), response_note="")
    quote.status = "awaiting_approval" if version.needs_approval else "draft"
    db.session.add(quote)
    db.session.flush()
    return quote


def update_quote(quote: Quote, items, *, by, valid_until: date | None = None, notes: str = "",
                 discount=0) -> QuoteVersion:
    """Change a quote's lines and terms; after it was sent, as its next version."""
    if quote.status not in EDITABLE:
        raise QuoteError(_("Quote %(ref)s was %(status)s and cannot change any more; make a "
                           "new quote instead.", ref=digits(quote.reference),
                           status=status_label(quote.status)))
    if quote.status in ("sent", "rejected"):
        version = QuoteVersion(version=quote.version + 1, issue_date=today(),
                               created_by_id=getattr(by, "id", None))
        _fill_version(version, quote.customer, items, by=by, valid_until=valid_until,
                      notes=notes, discount=discount)
        quote.versions.append(version)
        quote.version = version.version
        quote.public_token_hash = None  # the link sent with the earlier version stops working
        quote.responded_at = None
        quote.response_note = ""
    else:
        version = quote.current
        version.issue_date = today()
        _fill_version(version, quote.customer, items, by=by, valid_until=valid_until,
                      notes=notes, discount=discount)
    quote.status = "awaiting_approval" if version.needs_approval else "draft"
    quote.approved_by_id = quote.approved_at = None
    db.session.flush()
    return version


def approve_quote(quote: Quote, *, by) -> Quote:
    """A manager allows the discounts of the current version, so the quote can be sent."""
    if quote.status != "awaiting_approval":
        raise QuoteError(_("Quote %(ref)s is not waiting for approval.",
                           ref=digits(quote.reference)))
    granted = set(getattr(getattr(by, "role", None), "permissions", None) or ())
    if not granted & {"*", "sales.manage"}:
        raise QuoteError(_("Only a sales manager can approve discounts."))
    quote.status = "approved"
    quote.approved_by_id = getattr(by, "id", None)
    quote.approved_at = utcnow()
    db.session.flush()
    return quote


def new_link(quote: Quote) -> str:
    """A fresh answer link token for the current version (the old one stops working)."""
    token = secrets.token_urlsafe(32)
    quote.public_token_hash = _hash(token)
    quote.responded_at = None
    return token


def public_url(token: str) -> str:
    """The customer's answer page for a token (needs a request or SERVER_NAME)."""
    return url_for("sales.quote_public", token=token, _external=True)


def document_language() -> str:
    """The language of documents and emails to customers (the deployment's language)."""
    language = get_setting("display.language", "fa")
    return language if language in ("fa", "en") else "fa"


def send_quote(quote: Quote, to: str, *, by, message: str = ""):
    """Email the quote's PDF with an accept/reject link; the quote becomes "sent"."""
    from core import messaging
    from core.messaging.addresses import canonical_email
    from modules.sales.pdf import quote_pdf

    if quote.status not in SENDABLE:
        if quote.status == "awaiting_approval":
            raise QuoteError(_("Quote %(ref)s waits for a manager's approval of its discounts; "
                               "it can be sent once approved.", ref=digits(quote.reference)))
        raise QuoteError(_("Quote %(ref)s was %(status)s and cannot be sent.",
                           ref=digits(quote.reference), status=status_label(quote.status)))
    try:
        canonical_email(to)
    except ValueError as exc:
        raise QuoteError({"to": str(exc)}) from exc
    token = new_link(quote)
    link = public_url(token)
    language = document_language()
    pdf = quote_pdf(quote, language=language)
    with force_locale(language):
        subject = _("Quote %(ref)s from %(company)s", ref=digits(quote.reference),
                    company=get_setting("company.legal_name", "") or _("Peyvand"))
        version = quote.current
        body = [_("Dear %(name)s,", name=quote.customer.display_name), "",
                message.strip() or _("Please find our quote attached."), "",
                _("Valid until: %(date)s", date=jdate(version.valid_until, "long", language))
                if version.valid_until else "",
                _("To accept or decline this quote, open: %(link)s", link=link)]
        text = "\n".join(part for part in body if part is not None)
        filename = f"quote-{quote.reference}-v{quote.version}.pdf"
    sent = messaging.send_email(to, subject, text=text,
                                attachments=[(filename, pdf, "application/pdf")],
                                customer_key=f"customer:{quote.customer_id}", language=language)
    if sent is None:
        raise QuoteError({"to": _("%(email)s has opted out of emails.", email=to)})
    quote.current.sent_at = utcnow()
    quote.status = "sent"
    db.session.flush()
    return sent


def by_token(token: str) -> Quote | None:
    """The quote an answer link belongs to (None for an unknown or replaced link)."""
    if not token or len(token) > 100:
        return None
    return db.session.execute(select(Quote).where(
        Quote.public_token_hash == _hash(token))).scalar()


def answer(quote: Quote, accept: bool, note: str = "", *, by=None) -> Order | None:
    """The customer (or a user on their behalf) accepts or rejects the sent quote.

    Accepting makes the order; an answered quote cannot be answered again.
    """
    if quote.status in ("accepted", "rejected"):
        raise QuoteError(_("This quote was already answered (%(status)s).",
                           status=status_label(quote.status)))
    if quote.status != "sent":
        raise QuoteError(_("Quote %(ref)s has not been sent, so it cannot be answered yet.",
                           ref=digits(quote.reference)))
    valid_until = quote.current.valid_until
    if accept and valid_until is not None and valid_until < today():
        raise QuoteError(_("This quote expired on %(date)s; ask for a new one.",
                           date=jdate(valid_until, "long")))
    quote.status = "accepted" if accept else "rejected"
    if not accept:
        from modules.sales.quote_coupons import remove_coupon

        remove_coupon(quote)  # a club coupon on a rejected quote is usable again
    quote.responded_at = utcnow()
    quote.response_note = (note or "").strip()[:2000]
    order = make_order(quote) if accept else None
    db.session.flush()
    return order


def make_order(quote: Quote) -> Order:
    """The order for an accepted quote: its current version's lines and amounts."""
    version = quote.current
    day = today()
    fiscal_year = numbering.fiscal_year_for(day)
    order = Order(fiscal_year=fiscal_year, number=numbering.next_number("order", fiscal_year),
                  quote_id=quote.id, customer_id=quote.customer_id, owner_id=quote.owner_id,
                  team_id=quote.team_id, status="open", issue_date=day, notes=version.notes)
    checked = doc_lines.lines_of(version)
    result = totals.compute([line.input for line in checked], version.document_discount)
    doc_lines.store(order, OrderLine, checked, result)
    db.session.add(order)
    return order


def order_of(quote: Quote) -> Order | None:
    return db.session.execute(select(Order).where(Order.quote_id == quote.id)).scalar()


def cancel_quote(quote: Quote) -> Quote:
    """Withdraw a quote that has not been accepted."""
    if quote.status == "accepted":
        raise QuoteError(_("An accepted quote cannot be cancelled; cancel its order instead."))
    from modules.sales.quote_coupons import remove_coupon

    remove_coupon(quote)  # a club coupon on a withdrawn quote is usable again
    quote.status = "cancelled"
    quote.public_token_hash = None
    db.session.flush()
    return quote


def status_labels() -> dict[str, str]:
    """Every quote status in the reader's language (lists look each row's up here)."""
    return {"draft": _("Draft"), "awaiting_approval": _("Awaiting approval"),
            "approved": _("Approved"), "sent": _("Sent"), "accepted": _("Accepted"),
            "rejected": _("Rejected"), "cancelled": _("Cancelled")}


def status_label(status: str) -> str:
    """A quote status in the reader's language."""
    return status_labels().get(status, status)
