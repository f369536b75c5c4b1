"""Sales pages."""

from flask import Blueprint, render_template

from core.auth.permissions import require_permission

bp = Blueprint("sales", __name__, url_prefix="/sales", template_folder="templates")


@bp.route("/")
@require_permission("sales.view")
def index():
    """What the sales module offers."""
    from modules.sales import MANIFEST

    return render_template("sales/index.html", manifest=MANIFEST)
