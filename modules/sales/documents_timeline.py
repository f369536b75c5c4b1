"""Quotes, invoices and payments on the customer 360 timeline; moving them on a merge."""

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select, update

from core.auth.scope import scoped
from core.customers.timeline import TimelineEntry
from core.extensions import db
from core.i18n import digits
from core.money import format_money
from modules.sales.models.documents import Invoice, Order, Quote
from modules.sales.models.payments import Payment

LIMIT = 100


def timeline_entries(customer) -> list[TimelineEntry]:
    """The customer's quotes, posted invoices and credit notes, and payments (in scope)."""
    from modules.sales import invoices as invoice_services
    from modules.sales import payments as payment_services
    from modules.sales import quotes as quote_services

    entries = []
    for quote in db.session.execute(scoped(
            select(Quote).where(Quote.customer_id == customer.id), Quote, "sales")
            .order_by(Quote.id.desc()).limit(LIMIT)).scalars():
        entries.append(TimelineEntry(
            at=quote.updated_at or quote.created_at, kind="quote", module="sales",
            title=_("Quote %(ref)s: %(status)s", ref=digits(quote.reference),
                    status=quote_services.status_label(quote.status)),
            detail=format_money(quote.current.total),
            url=url_for("sales.quote_show", quote_id=quote.id)))
    for invoice in db.session.execute(scoped(
            select(Invoice).where(Invoice.customer_id == customer.id,
                                  Invoice.status == "posted"), Invoice, "sales")
            .order_by(Invoice.id.desc()).limit(LIMIT)).scalars():
        entries.append(TimelineEntry(
            at=invoice.posted_at, kind=invoice.kind, module="sales",
            title=invoice_services.title(invoice), detail=format_money(invoice.total),
            url=url_for("sales.invoice_show", invoice_id=invoice.id)))
    for payment in db.session.execute(scoped(
            select(Payment).where(Payment.customer_id == customer.id), Payment, "sales")
            .order_by(Payment.id.desc()).limit(LIMIT)).scalars():
        title = _("Payment by %(method)s", method=payment_services.method_label(payment.method))
        if payment.method == "cheque":
            title += f" · {payment_services.status_label(payment.status)}"
        entries.append(TimelineEntry(
            at=payment.created_at, kind="payment", module="sales", title=title,
            detail=format_money(payment.amount),
            url=url_for("sales.payment_show", payment_id=payment.id)))
    return entries


def merge_documents(survivor_id: int, loser_id: int) -> None:
    """Merge handler: the loser's quotes, orders, invoices and payments follow the survivor.

    Posted invoices keep the buyer fields printed on them (a snapshot); only the link to the
    customer record moves, with a plain UPDATE that the posted-invoice guard does not see.
    """
    for model in (Quote, Order, Invoice, Payment):
        db.session.execute(update(model).where(model.customer_id == loser_id)
                           .values(customer_id=survivor_id)
                           .execution_options(synchronize_session=False))
