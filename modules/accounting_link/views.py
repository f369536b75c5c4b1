"""Accounting link pages."""

from flask import Blueprint, render_template

from core.auth.permissions import require_permission

bp = Blueprint("accounting_link", __name__, url_prefix="/accounting", template_folder="templates")


@bp.route("/")
@require_permission("accounting_link.view")
def index():
    """What the accounting link module offers."""
    from modules.accounting_link import MANIFEST

    return render_template("accounting_link/index.html", manifest=MANIFEST)
