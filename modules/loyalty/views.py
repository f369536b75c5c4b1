"""Customer club pages."""

from flask import Blueprint, render_template

from core.auth.permissions import require_permission

bp = Blueprint("loyalty", __name__, url_prefix="/loyalty", template_folder="templates")


@bp.route("/")
@require_permission("loyalty.view")
def index():
    """What the customer club module offers."""
    from modules.loyalty import MANIFEST

    return render_template("loyalty/index.html", manifest=MANIFEST)
