"""Marketing module.

Segments (rules and RFM), email and SMS campaigns, lead capture forms, leads and scoring,
attribution.
"""

from flask_babel import lazy_gettext as _l

from core.modules import Manifest, MenuEntry

MANIFEST = Manifest(
    name="marketing",
    title=_l("Marketing"),
    version="0.1.0",
    description=_l(
        "Segments (rules and RFM), email and SMS campaigns, lead capture forms, leads and"
        " scoring, attribution."
    ),
    depends=(),
    uses=('sales',),
    permissions={
        "marketing.view": _l("View marketing"),
        "marketing.manage": _l("Manage segments and campaigns"),
        "marketing.work": _l("Work on leads"),
    },
    menu=(
        MenuEntry(
            "marketing.index", _l("Marketing"), icon="megaphone", permission="marketing.view"
        ),
    ),
    scoped=True,
)


def register(app):
    """Wire the module into the app: views, API, listeners, jobs, CLI."""
    from modules.marketing import (
        models,  # noqa: F401 - tables
        views,
    )

    views.register(app)

    # Each part wires its own API, listeners, jobs, hooks; see the files named here.
    from importlib import import_module

    for part in PARTS:
        import_module(f"modules.marketing.{part}").register(app)


PARTS = (
    "segments_api",   # /api/v1/marketing/segments
    "sending",        # the campaign send job, tracking pixel, signed redirects, unsubscribe
    "campaigns_api",  # /api/v1/marketing/campaigns
    "leads_api",      # /api/v1/marketing/leads; lead forms (hosted page, embed snippet)
    "automations",    # welcome, birthday, occasions, win-back (periodic)
    "hooks",          # timeline, merge handlers, dashboard widgets, demo data
)
