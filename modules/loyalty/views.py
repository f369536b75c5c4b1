"""Customer club pages."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from core.auth.permissions import require_permission

bp = Blueprint("loyalty", __name__, url_prefix="/loyalty", template_folder="templates")

OFFERS = (
    _l("Points ledger with expiry"),
    _l("Earning rules and bonuses"),
    _l("Tiers with benefits"),
    _l("Rewards and coupons"),
    _l("Referrals and member self-service"),
)


@bp.route("/")
@require_permission("loyalty.view")
def index():
    """What the customer club module offers."""
    from modules.loyalty import MANIFEST

    return render_template("core/module_index.html", manifest=MANIFEST, offers=OFFERS)
