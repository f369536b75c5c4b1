"""After-sales service pages."""

from flask import Blueprint, render_template

from core.auth.permissions import require_permission

bp = Blueprint("service", __name__, url_prefix="/service", template_folder="templates")


@bp.route("/")
@require_permission("service.view")
def index():
    """What the after-sales service module offers."""
    from modules.service import MANIFEST

    return render_template("service/index.html", manifest=MANIFEST)
