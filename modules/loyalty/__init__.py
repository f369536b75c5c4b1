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
    from modules.loyalty import views

    app.register_blueprint(views.bp)
