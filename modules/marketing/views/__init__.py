"""Marketing pages: the blueprint, the start page, and one view file per topic."""

from flask import Blueprint, redirect, url_for

from core.auth.permissions import require_permission

bp = Blueprint("marketing", __name__, url_prefix="/marketing", template_folder="../templates")


@bp.route("/")
@require_permission("marketing.view")
def index():
    """The marketing start page is the campaign list."""
    return redirect(url_for("marketing.campaigns"))


VIEW_FILES: tuple[str, ...] = ("segments", "campaigns", "leads", "forms", "automations",
                               "attribution", "competitors")


def register(app) -> None:
    """Import the view files (each adds routes to ``bp``) and register the blueprint."""
    from importlib import import_module

    for name in VIEW_FILES:
        import_module(f"modules.marketing.views.{name}")
    app.register_blueprint(bp)
