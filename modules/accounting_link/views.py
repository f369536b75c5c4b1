"""Accounting link pages."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from core.auth.permissions import require_permission

bp = Blueprint("accounting_link", __name__, url_prefix="/accounting", template_folder="templates")

OFFERS = (
    _l("Chart-of-accounts mapping"),
    _l("Balanced journal and trial balance"),
    _l("Delivery to accounting software"),
    _l("Imports from accounting software"),
    _l("Moadian e-invoice payloads"),
)


@bp.route("/")
@require_permission("accounting_link.view")
def index():
    """What the accounting link module offers."""
    from modules.accounting_link import MANIFEST

    return render_template("core/module_index.html", manifest=MANIFEST, offers=OFFERS)
