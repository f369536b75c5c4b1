"""Marketing pages: campaigns."""

from flask import current_app

from modules.marketing.views import bp


@bp.context_processor
def _marketing_nav() -> dict:
    """``marketing_has(endpoint)``: the nav shows tabs whose pages exist in this deployment."""
    return {"marketing_has": lambda endpoint: endpoint in current_app.view_functions}
