"""After-sales service pages."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from core.auth.permissions import require_permission

bp = Blueprint("service", __name__, url_prefix="/service", template_folder="templates")

OFFERS = (
    _l("Tickets and complaints"),
    _l("SLA on Iranian business hours"),
    _l("Customer portal"),
    _l("Satisfaction surveys (CSAT and NPS)"),
    _l("Knowledge base and warranties"),
)


@bp.route("/")
@require_permission("service.view")
def index():
    """What the after-sales service module offers."""
    from modules.service import MANIFEST

    return render_template("core/module_index.html", manifest=MANIFEST, offers=OFFERS)
