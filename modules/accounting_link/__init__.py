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
    scoped=True,
)


def register(app):
    """Wire the module into the app: views, API, listeners, jobs, CLI."""
    from modules.accounting_link import views

    app.register_blueprint(views.bp)
