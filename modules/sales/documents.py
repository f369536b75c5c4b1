"""Wiring of the sales documents (quotes, orders, invoices, payments) into the app."""

from decimal import Decimal

from flask import Flask

from core.i18n import format_number


def quantity_filter(quantity: int | None) -> str:
    """Thousandths of a unit in the reader's digits: 2500 → "۲٫۵"."""
    from modules.sales.totals import quantity_text

    if quantity is None:
        return ""
    return format_number(Decimal(quantity_text(quantity)))


def register(app: Flask) -> None:
    """Template filters, the posted-invoice guard, the API, timeline and merge handlers."""
    from core.customers.merge import add_merge_handler
    from core.customers.timeline import add_provider
    from modules.sales import api_documents
    from modules.sales.documents_timeline import merge_documents, timeline_entries
    from modules.sales.invoices import install_guard
    from modules.sales.lines import percent_text

    app.jinja_env.filters.update(sales_qty=quantity_filter, sales_pct=percent_text)
    install_guard()
    api_documents.register(app)
    add_provider(app, timeline_entries)
    add_merge_handler(app, merge_documents)
