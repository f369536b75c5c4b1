"""Sales pages: the blueprint, the start page, and one view file per topic."""

from flask import Blueprint, redirect, url_for

from core.auth.permissions import require_permission

bp = Blueprint("sales", __name__, url_prefix="/sales", template_folder="../templates")

@bp.route("/")
@require_permission("sales.view")
def index():
    """The sales start page is the pipeline board."""
    return redirect(url_for("sales.board"))


def register(app) -> None:
    """Import the view files (each adds routes to ``bp``) and register the blueprint."""
    from importlib import import_module

    for name in VIEW_FILES:
        import_module(f"modules.sales.views.{name}")
    app.register_blueprint(bp)


VIEW_FILES: tuple[str, ...] = ("catalog", "pipeline", "deals", "quotes", "invoices", "payments",
                               "rules")

VIEW_FILES += ("performance",)  # targets and rep performance
VIEW_FILES += ("quote_coupons",)  # customer-club coupons on quotes
