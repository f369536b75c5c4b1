"""Service pages: the blueprint, the start page, and one view file per topic."""

from flask import Blueprint, redirect, url_for

from core.auth.permissions import require_permission

bp = Blueprint("service", __name__, url_prefix="/service", template_folder="../templates")


@bp.route("/")
@require_permission("service.view")
def index():
    """The service start page is the ticket list."""
    return redirect(url_for("service.tickets"))


VIEW_FILES: tuple[str, ...] = ("tickets", "sla", "kb", "assets", "surveys", "reports")


def register(app) -> None:
    """Import the view files (each adds routes to ``bp``) and register the blueprint."""
    from importlib import import_module

    for name in VIEW_FILES:
        import_module(f"modules.service.views.{name}")
    app.register_blueprint(bp)
