"""Purchases on the customer 360 timeline, whatever their source (invoice, import, shop, POS)."""

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select

from core.analytics.models import Purchase
from core.extensions import db
from core.i18n import localize_digits
from core.money import Money, format_money


def _source(source: str) -> str:
    return {"sales": _("sales invoice"), "import": _("imported history"),
            "api": _("online shop"), "pos": _("point of sale")}.get(source, source)


def purchase_entries(customer) -> list:
    """The customer's last 200 purchases."""
    from core.customers.timeline import TimelineEntry

    rows = db.session.execute(
        select(Purchase).where(Purchase.customer_id == customer.id)
        .order_by(Purchase.occurred_at.desc()).limit(200)).scalars()
    return [TimelineEntry(
        at=row.occurred_at, kind="purchase",
        title=_("Purchase of %(amount)s (%(source)s)",
                amount=format_money(Money(row.amount, row.currency)), source=_source(row.source)),
        detail=localize_digits(row.reference)) for row in rows]


def init_app(app: Flask) -> None:
    from core.customers.timeline import add_provider

    add_provider(app, purchase_entries)
