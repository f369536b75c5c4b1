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
    from modules.service import views

    app.register_blueprint(views.bp)
