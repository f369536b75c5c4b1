"""flask-smorest ``Api`` whose state lives per app, with problem+json errors and bearer auth docs.

One module-level ``api`` object (``core.extensions.api``) serves every app the process builds
(tests build one per test). Stock flask-smorest keeps the spec, the config and the bound app
on the object, so a second app would overwrite the first one's spec. Here those attributes
are looked up in the app that is being set up, else in the app of the current context, else
in the app initialised last.
"""

from contextlib import contextmanager
from contextvars import ContextVar

import marshmallow as ma
from flask import Flask, current_app, has_app_context
from flask_smorest import Api

_binding: ContextVar[dict | None] = ContextVar("crm_api_binding", default=None)
STATE_KEY = "crm_api"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only: ``core.api.problem`` builds them)."""

    type = ma.fields.String(metadata={"description": "A URI naming the problem type"})
    title = ma.fields.String(metadata={"description": "Short summary of the problem"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong, in plain words"})
    errors = ma.fields.Dict(metadata={"description": "Field errors (validation failures)"})


class _PerApp:
    """An attribute kept in the state of the app the ``Api`` is working for."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        return obj._state().get(self.name)

    def __set__(self, obj, value):
        obj._state()[self.name] = value


class PeyvandApi(Api):
    """The API extension: per-app spec, CSRF-exempt blueprints, problem+json errors."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"

    _app = _PerApp()
    config = _PerApp()
    spec = _PerApp()
    flask_plugin = _PerApp()
    ma_plugin = _PerApp()

    def __init__(self, app=None, *, spec_kwargs=None, config_prefix=""):
        self._last_state: dict = {}
        super().__init__(app, spec_kwargs=spec_kwargs, config_prefix=config_prefix)

    def _state(self) -> dict:
        bound = _binding.get()
        if bound is not None:
            return bound
        if has_app_context():
            state = current_app.extensions.get(STATE_KEY)
            if state is not None:
                return state
        return self._last_state

    @contextmanager
    def _bound(self, app: Flask):
        token = _binding.set(app.extensions.setdefault(STATE_KEY, {}))
        try:
            yield
        finally:
            _binding.reset(token)

    def init_app(self, app: Flask, *, spec_kwargs=None) -> None:
        """Bind to ``app``: a fresh spec, the spec blueprint and the error handlers."""
        app.extensions[STATE_KEY] = {}
        self._last_state = app.extensions[STATE_KEY]
        with self._bound(app):
            super().init_app(app, spec_kwargs=spec_kwargs)
            self.spec.components.security_scheme(
                "bearerAuth",
                {"type": "http", "scheme": "bearer", "bearerFormat": "pvd_…",
                 "description": "A personal access token from /account/tokens or "
                                "`flask crm token create`."},
            )

    def _init_spec(self, **options):
        options.setdefault("security", [{"bearerAuth": []}])
        options.setdefault("info", {"description": "Peyvand CRM REST API. Errors are "
                                                   "`application/problem+json` (RFC 9457)."})
        super()._init_spec(**options)

    def register_blueprint(self, blp, *, app: Flask | None = None, parameters=None, **options):
        """Register an API blueprint on ``app`` (default: the app initialised last).

        The blueprint is exempt from CSRF (API requests authenticate with a bearer token,
        never the session cookie); its errors answer as problem+json like every /api/ path.
        """
        from core.extensions import csrf

        target = app or self._app
        csrf.exempt(blp)
        with self._bound(target):
            super().register_blueprint(blp, parameters=parameters, **options)

    def handle_http_exception(self, error):
        """Every HTTP error under /api/ as problem+json; other paths keep their pages."""
        from flask import request

        if request.path.startswith("/api/"):
            from core.api.problems import problem_from_exception

            return problem_from_exception(error)
        return error

    def _openapi_json(self):
        """The OpenAPI 3 document of this app's API."""
        return super()._openapi_json()

    def _register_doc_blueprint(self):
        from core.auth.permissions import public  # not at import: core.auth needs extensions

        public(PeyvandApi._openapi_json)  # anyone may read the spec
        super()._register_doc_blueprint()

