"""Customer club module.

Points ledger with expiry, earning rules, tiers, rewards and coupons, referrals, member self-
service.
"""

from flask_babel import lazy_gettext as _l

from core.modules import Manifest, MenuEntry

MANIFEST = Manifest(
    name="loyalty",
    title=_l("Customer club"),
    version="0.1.0",
    description=_l(
        "Points ledger with expiry, earning rules, tiers, rewards and coupons, referrals,"
        " member self-service."
    ),
    depends=('sales',),
    uses=('marketing', 'service'),
    permissions={
        "loyalty.view": _l("View the club"),
        "loyalty.manage": _l("Manage the club"),
        "loyalty.work": _l("Serve club members"),
    },
    menu=(MenuEntry("loyalty.index", _l("Customer club"), icon="gift", permission="loyalty.view"),),
    scoped=True,
)


def register(app):
    """Wire the module into the app: views, API, listeners, jobs, CLI."""
    from modules.loyalty import (
        models,  # noqa: F401 - tables
        views,
    )

    views.register(app)

    # Each part wires its own API, listeners, jobs, hooks; see the files named here.
    from importlib import import_module

    for part in PARTS:
        import_module(f"modules.loyalty.{part}").register(app)


PARTS: tuple[str, ...] = (
    "jobs",        # release of pending points, expiry, expiry warnings (periodic)
    "earning",     # earning rules: invoices and API purchases earn, credit notes take back
    "tiers",       # tier qualification, upgrade at once, scheduled downgrade with notice
    "rewards",     # catalogue, redemption, coupons (sales quotes accept them), stock
    "notify",      # SMS when points are earned, about to expire, or a tier changes
    "api",         # /api/v1/loyalty/{members,transactions,rewards}
    "portal",      # the portal's club pages (/portal/club)
    "integration", # merge handler, timeline, SLA tier hook, marketing segment field, widgets
    "demo",        # demo members, rules, tiers, rewards for `crm demo`
    "labels",      # references as people read them ("Invoice 1405-1"), a template global
)
