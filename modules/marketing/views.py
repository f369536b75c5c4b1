"""Marketing pages."""

from flask import Blueprint, render_template

from core.auth.permissions import require_permission

bp = Blueprint("marketing", __name__, url_prefix="/marketing", template_folder="templates")


@bp.route("/")
@require_permission("marketing.view")
def index():
    """What the marketing module offers."""
    from modules.marketing import MANIFEST

    return render_template("marketing/index.html", manifest=MANIFEST)
