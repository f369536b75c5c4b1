"""API test helpers: tokens for users, and a test-only blueprint with a write endpoint."""

import threading
import time
import uuid

import marshmallow as ma
import pytest
from flask import abort
from flask.views import MethodView
from flask_smorest import Blueprint

from core.api.idempotency import idempotent
from core.auth.permissions import require_permission

test_bp = Blueprint("apitest_api", __name__, url_prefix="/api/v1/apitest")
EXECUTIONS: list[dict] = []
_lock = threading.Lock()


class PointsIn(ma.Schema):
    customer = ma.fields.String(required=True)
    points = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    delay = ma.fields.Float(load_default=0)


class PointsOut(ma.Schema):
    id = ma.fields.String()
    customer = ma.fields.String()
    points = ma.fields.Integer()


@test_bp.route("/points")
class Points(MethodView):
    @require_permission("customers.edit")
    @idempotent
    @test_bp.arguments(PointsIn)
    @test_bp.response(201, PointsOut)
    def post(self, data):
        """Grant points (test only): records each real execution."""
        from core.database import set_setting

        time.sleep(data.pop("delay"))
        result = {"id": uuid.uuid4().hex, **data}
        with _lock:
            EXECUTIONS.append(result)
        set_setting(f"apitest.{result['id']}", data["points"])
        return result

    @require_permission("customers.view")
    @test_bp.response(200, PointsOut(many=True))
    def get(self):
        """List what was granted (test only)."""
        return list(EXECUTIONS)


@test_bp.route("/admin-only")
class AdminOnly(MethodView):
    @require_permission("admin.settings")
    def get(self):
        """Needs admin.settings (test only)."""
        return {"ok": True}


@test_bp.route("/conflict")
class Conflict(MethodView):
    @require_permission("customers.view")
    def get(self):
        """Always 409 with a specific message (test only)."""
        abort(409, "Invoice 12 is already posted.")


@test_bp.route("/boom")
class Boom(MethodView):
    @require_permission("customers.view")
    def get(self):
        """Always fails (test only)."""
        raise RuntimeError("boom")


@pytest.fixture
def api_app(app):
    """The app with the test-only API blueprint registered."""
    from core.extensions import api

    EXECUTIONS.clear()
    api.register_blueprint(test_bp, app=app)
    return app


@pytest.fixture
def make_token(app):
    """Create a token: ``make_token("a@x.ir", scopes="read,write")`` → the secret."""
    from core.api.tokens import create_token
    from core.auth.models import User
    from core.extensions import db

    def make(email="admin@example.ir", scopes="read,write", name="test", expires_at=None):
        with app.app_context():
            user = db.session.query(User).filter_by(email=email).one()
            _token, secret = create_token(user, name, scopes, expires_at)
            db.session.commit()
            return secret

    return make


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status: int) -> dict:
    """The response is problem+json with this status; returns the body."""
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and "detail" in body and body["type"] == "about:blank"
    return body


@pytest.fixture
def app_overrides():
    """English messages, so assertions on problem details do not depend on the catalogs."""
    return {"BABEL_DEFAULT_LOCALE": "en"}
