"""Customer-club pages: the blueprint, the start page, and one view file per topic."""

from flask import Blueprint, redirect, url_for

from core.auth.permissions import require_permission

bp = Blueprint("loyalty", __name__, url_prefix="/loyalty", template_folder="../templates")


@bp.route("/")
@require_permission("loyalty.view")
def index():
    """The start page is the member list."""
    return redirect(url_for("loyalty.members"))


# members (list, page, enrol, import, adjust, card/QR), rules (with preview), tiers,
# rewards (catalogue, redemptions, coupons), reports, settings
VIEW_FILES: tuple[str, ...] = ("members", "rules", "tiers", "rewards", "reports", "settings")


def register(app) -> None:
    """Import the view files (each adds routes to ``bp``) and register the blueprint."""
    from importlib import import_module

    for name in VIEW_FILES:
        import_module(f"modules.loyalty.views.{name}")
    app.register_blueprint(bp)
