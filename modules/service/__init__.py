"""After-sales service module.

Tickets and complaints, SLA on business hours, escalation, customer portal, CSAT/NPS, knowledge
base, warranties.
"""

from flask_babel import lazy_gettext as _l

from core.modules import Manifest, MenuEntry

MANIFEST = Manifest(
    name="service",
    title=_l("After-sales service"),
    version="0.1.0",
    description=_l(
        "Tickets and complaints, SLA on business hours, escalation, customer portal, "
        "CSAT/NPS, knowledge base, warranties."
    ),
    depends=(),
    uses=('sales', 'loyalty'),
    permissions={
        "service.view": _l("View tickets"),
        "service.manage": _l("Manage SLA, teams and the knowledge base"),
        "service.work": _l("Work on tickets"),
    },
    menu=(
        MenuEntry(
            "service.index", _l("After-sales service"), icon="headset", permission="service.view"
        ),
    ),
    scoped=True,
)


def register(app):
    """Wire the module into the app: views, API, listeners, jobs, CLI."""
    from modules.service import (
        models,  # noqa: F401 - tables
        views,
    )

    views.register(app)

    # Each part wires its own API, listeners, jobs, hooks; see the files named here.
    from importlib import import_module

    for part in PARTS:
        import_module(f"modules.service.{part}").register(app)


PARTS = (
    "api",        # /api/v1/service/tickets with replies and status changes
    "timeline",   # tickets on the 360 page, merge and anonymise handlers, customer actions
    "sla_jobs",   # SLA recompute, warnings and escalation (periodic)
    "mail",       # support mailbox (IMAP polling) and replies by email
    "portal",     # the customer portal's service pages (tickets, knowledge base)
    "installed",  # installed base from posted sales invoices
    "surveys",    # CSAT after close, NPS rounds
    "widgets",    # dashboard widgets
    "demo",       # demo tickets, knowledge base and SLA for `crm demo`
)
