"""WSGI apps the benches serve under gunicorn (``bench.apps:bare()`` etc.)."""

from flask import Flask, jsonify
from flask_login import login_required

GATE_HOOKS = {"deny_undeclared", "_require_active_module", "gate"}


def bare() -> Flask:
    """The ceiling: a bare Flask route that returns a small JSON document."""
    app = Flask("bare")

    @app.get("/")
    def index():
        return jsonify(ok=True)

    return app


def full() -> Flask:
    """The real application, configured from the environment like wsgi.py."""
    from core import create_app

    return create_app()


def ungated() -> Flask:
    """The real application with the license, module, seat and permission gates taken out.

    Only for measuring what the gates cost: never serve this.
    """
    from core import create_app

    app = create_app()
    for key, funcs in app.before_request_funcs.items():
        app.before_request_funcs[key] = [f for f in funcs if f.__name__ not in GATE_HOOKS]
    view = app.view_functions["ui.dashboard"]
    app.view_functions["ui.dashboard"] = login_required(getattr(view, "__wrapped__", view))
    return app
