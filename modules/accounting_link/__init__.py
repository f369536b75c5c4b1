"""Accounting link module.

Double-entry journal of invoices, payments and points, delivery to accounting systems, imports
back, e-invoice payloads.
"""

from flask_babel import lazy_gettext as _l

from core.modules import Manifest, MenuEntry

MANIFEST = Manifest(
    name="accounting_link",
    title=_l("Accounting link"),
    version="0.1.0",
    description=_l(
        "Double-entry journal of invoices, payments and points, delivery to accounting "
        "systems, imports back, e-invoice payloads."
    ),
    depends=('sales',),
    uses=('loyalty',),
    permissions={
        "accounting_link.view": _l("View the accounting link"),
        "accounting_link.manage": _l("Manage mappings and deliveries"),
    },
    menu=(
        MenuEntry(
            "accounting_link.index", _l("Accounting link"), icon="journal",
            permission="accounting_link.view",
        ),
    ),
    scoped=False,
)


def register(app):
    """Wire the module into the app: views, API, listeners, jobs, CLI."""
    from modules.accounting_link import (
        journal,
        models,  # noqa: F401 - tables
        views,
    )

    journal.install_guard()
    views.register(app)

    # Each part wires its own API, listeners, jobs, hooks; see the files named here.
    from importlib import import_module

    for part in PARTS:
        import_module(f"modules.accounting_link.{part}").register(app)


PARTS: tuple[str, ...] = (
    "postings",    # journal entries from sales and loyalty events (same transaction)
    "delivery",    # connectors: REST/webhook through the outbox, dead letters
    "exports",     # CSV/XLSX and beancount files per period
    "moadian",     # e-invoice payloads for the tax authority, schema-checked; submission connector
    "imports",     # customers, past sales and settlements from the accounting package
    "api",         # /api/v1/accounting/{journal,outbox,export}
    "widgets",     # dashboard widget: sync health
    "demo",        # demo chart, mapping and journal for `crm demo`
)
