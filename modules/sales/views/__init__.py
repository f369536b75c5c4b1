"""Sales pages: the blueprint, the start page, and one view file per topic."""

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l

from core.auth.permissions import require_permission

bp = Blueprint("sales", __name__, url_prefix="/sales", template_folder="../templates")

OFFERS = (
    _l("Products, services and price lists"),
    _l("Pipelines with a kanban board"),
    _l("Quotes with Persian PDFs"),
    _l("Invoices, credit notes and payments"),
    _l("Cross-sell, up-sell and forecasts"),
)


@bp.route("/")
@require_permission("sales.view")
def index():
    """What the sales module offers."""
    from modules.sales import MANIFEST

    return render_template("core/module_index.html", manifest=MANIFEST, offers=OFFERS)


def register(app) -> None:
    """Import the view files (each adds routes to ``bp``) and register the blueprint."""
    from importlib import import_module

    for name in VIEW_FILES:
        import_module(f"modules.sales.views.{name}")
    app.register_blueprint(bp)


VIEW_FILES: tuple[str, ...] = ("catalog", "pipeline", "deals", "quotes", "invoices", "payments")
