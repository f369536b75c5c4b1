"""Interactive API docs (Swagger UI, vendored under core/static/vendor/swagger-ui)."""

from flask import Blueprint, render_template, url_for

from core.auth.permissions import public

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.route("/docs")
@public
def docs():
    """Swagger UI for this deployment's OpenAPI document, served from our own static files."""
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
