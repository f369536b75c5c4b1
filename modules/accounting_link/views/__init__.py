"""Accounting-link pages: the blueprint, the start page, and one view file per topic."""

from flask import Blueprint, redirect, url_for

from core.auth.permissions import require_permission

bp = Blueprint("accounting_link", __name__, url_prefix="/accounting",
               template_folder="../templates")


@bp.route("/")
@require_permission("accounting_link.view")
def index():
    """The start page is the journal."""
    return redirect(url_for("accounting_link.journal"))


# journal (journal, entry detail, trial balance), mapping (chart, mapping, fiscal years),
# deliveries (connectors, outbox state, dead letters), exports, imports, moadian,
# reconciliation
VIEW_FILES: tuple[str, ...] = ("journal", "mapping", "deliveries", "exports", "imports",
                               "moadian", "reconciliation")


def register(app) -> None:
    """Import the view files (each adds routes to ``bp``) and register the blueprint."""
    from importlib import import_module

    for name in VIEW_FILES:
        import_module(f"modules.accounting_link.views.{name}")
    app.register_blueprint(bp)
