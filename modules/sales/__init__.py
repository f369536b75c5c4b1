"""Sales module.

Products and price lists, opportunity pipeline, quotes, orders, invoices with PDF, payments,
cross-sell and up-sell, forecasts.
"""

from flask_babel import lazy_gettext as _l

from core.modules import Manifest, MenuEntry

MANIFEST = Manifest(
    name="sales",
    title=_l("Sales"),
    version="0.1.0",
    description=_l(
        "Products and price lists, opportunity pipeline, quotes, orders, invoices with "
        "PDF, payments, cross-sell and up-sell, forecasts."
    ),
    depends=(),
    uses=('marketing', 'loyalty'),
    permissions={
        "sales.view": _l("View sales"),
        "sales.manage": _l("Manage catalogue, pipelines and approvals"),
        "sales.work": _l("Work on deals, quotes and invoices"),
    },
    menu=(MenuEntry("sales.index", _l("Sales"), icon="cart", permission="sales.view"),),
    scoped=True,
)


def register(app):
    """Wire the module into the app: views, API, listeners, jobs, CLI."""
    from modules.sales import (
        models,  # noqa: F401 - tables
        views,
    )

    views.register(app)

    from modules.sales import api, demo, timeline

    api.register(app)  # /api/v1/sales/products and /deals
    timeline.register(app)  # deals on the 360 page; deals follow a customer merge
    demo.register(app)  # catalogue, pipeline and deals for `crm demo`

    from modules.sales import documents

    documents.register(app)  # quotes, invoices, payments: filters, guard, API, timeline

    from modules.sales import rules

    rules.register(app)  # nightly rule mining; cross-sell card on the 360 page

    from modules.sales import widgets

    widgets.register(app)  # dashboard: my month, leaderboard

    from modules.sales import portal

    portal.register(app)  # customer portal: my quotes and invoices with their PDFs
