"""Marketing pages."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from core.auth.permissions import require_permission

bp = Blueprint("marketing", __name__, url_prefix="/marketing", template_folder="templates")

OFFERS = (
    _l("Leads and lead scoring"),
    _l("Segments by rules and RFM"),
    _l("Email and SMS campaigns with tracking and consent"),
    _l("Lead capture forms"),
    _l("Attribution and campaign ROI"),
)


@bp.route("/")
@require_permission("marketing.view")
def index():
    """What the marketing module offers."""
    from modules.marketing import MANIFEST

    return render_template("core/module_index.html", manifest=MANIFEST, offers=OFFERS)
