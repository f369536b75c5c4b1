"""Licensing fixtures: our own vendor root key, a movable clock, installing documents."""

import pytest

from tests.core.licensing.helpers import BASE, ROOT_PUBLIC, Clock


@pytest.fixture
def app_overrides():
    return {"CRM_LICENSE_ROOT_KEYS": [ROOT_PUBLIC]}


@pytest.fixture
def clock(app):
    """Pin licensing's clock to BASE and start the trial there too."""
    from core.database import set_setting
    from core.extensions import db

    tick = Clock(BASE)
    app.config["CRM_NOW"] = tick
    with app.app_context():
        set_setting("deployment.initialised_at", BASE.isoformat())
        db.session.commit()
    return tick


@pytest.fixture
def deployment_id(app):
    from core.bootstrap import deployment_id as current

    with app.app_context():
        return current()


@pytest.fixture
def install(app):
    """Install a license text through the service, as the CLI and the upload page do."""
    from core.licensing.services import install as do_install

    def run(text):
        with app.app_context():
            return do_install(text, installed_by="test")

    return run


@pytest.fixture
def write_probe(app):
    """A UI and an API endpoint that write, to watch the read-only gate refuse them."""
    from flask import Blueprint, jsonify

    from core.auth.permissions import require_permission
    from core.database import set_setting
    from core.extensions import csrf, db

    bp = Blueprint("probe", __name__)

    @bp.route("/probe/write", methods=["GET", "POST"])
    @require_permission("core.dashboard")
    def ui_write():
        """Store a setting on POST; show it on GET."""
        from flask import request

        from core.database import get_setting

        if request.method == "POST":
            set_setting("probe.value", request.form.get("value"))
            db.session.commit()
            return "saved"
        return f"value={get_setting('probe.value')}"

    @bp.route("/api/v1/probe", methods=["POST"])
    @require_permission("core.dashboard")
    def api_write():
        """Store a setting through the API."""
        set_setting("probe.value", "api")
        db.session.commit()
        return jsonify(saved=True)

    csrf.exempt(api_write)
    app.register_blueprint(bp)
    return bp


@pytest.fixture
def admin(write_probe, make_user, login):
    """An English-speaking admin, signed in (the probe is registered first); the client."""
    make_user("admin@example.ir", role="admin", locale="en", seats=["sales"])
    return login("admin@example.ir")
