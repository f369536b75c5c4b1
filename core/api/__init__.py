"""JSON REST API under /api/v1: flask-smorest, bearer tokens, problem+json, idempotency, docs.

Module API blueprints are flask-smorest ``Blueprint``s named ``<module>_api`` with
``url_prefix="/api/v1/<module>"``, registered in the module's ``register(app)`` with
``core.extensions.api.register_blueprint(bp)``.
"""

from flask import Flask, jsonify
from flask_babel import lazy_gettext as _l

# Nothing from core.extensions at import time: core.extensions imports core.api.smorest.


def problem(status: int, title: str, detail: str = "", **extra):
    """An ``application/problem+json`` error response (RFC 9457)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def init_app(app: Flask) -> None:
    from core.api import cli, docs, models, v1, views  # noqa: F401 - tables and commands
    from core.api.auth import authenticate_api_request
    from core.api.idempotency import purge_expired_keys
    from core.extensions import api
    from core.modules import MenuEntry
    from core.ui import add_core_menu

    api.init_app(app)
    from core.api import guards

    guards.init_app(app)  # offsets on timestamps, out-of-range values refused (not a 500)
    # First of all before_request hooks: decide the API user from the bearer token before
    # anything (CSRF, rate limits, licensing) asks Flask-Login, which would read the session.
    app.before_request_funcs.setdefault(None, []).insert(0, authenticate_api_request)
    api.register_blueprint(v1.bp, app=app)
    app.register_blueprint(docs.bp)
    app.register_blueprint(views.bp)
    add_core_menu(app, MenuEntry("api_tokens.index", _l("API tokens"), icon="key",
                                 permission="api.tokens"))
    from core import jobs

    if hasattr(jobs, "periodic"):
        jobs.periodic("api.purge_idempotency_keys", 3600, purge_expired_keys)
