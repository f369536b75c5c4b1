"""``crm check`` says in plain words what is wrong with a deployment."""

import os
from datetime import timedelta

import pytest

from tests.core.licensing.helpers import BASE, Clock

STRONG = "k" * 48


@pytest.fixture
def app_overrides():
    return {"SECRET_KEY": STRONG, "CRM_NOW": Clock(BASE)}


def _problems(app):
    from core.checks import run_checks

    with app.app_context():
        return run_checks(app)


def _messages(app, level):
    return [message for lvl, message in _problems(app) if lvl == level]


def test_a_fresh_deployment_only_warns_about_email_and_sms(app):
    from core.database import set_setting
    from core.extensions import db

    with app.app_context():
        set_setting("deployment.initialised_at", BASE.isoformat())
        db.session.commit()
    errors = [m for m in _messages(app, "error") if "migration" not in m]
    assert errors == []
    warnings = " ".join(_messages(app, "warning"))
    assert "email is not set up" in warnings and "SMS is not set up" in warnings


def test_migration_check_is_skipped_or_says_to_run_init(app):
    from core.checks import check_migrations

    with app.app_context():
        found = check_migrations(app)
    assert found == [] or all("crm init" in message for _level, message in found)


def test_weak_secret_key_is_an_error(app):
    app.config["SECRET_KEY"] = "test-secret-key"
    assert any("SECRET_KEY is short" in m for m in _messages(app, "error"))


def test_unwritable_upload_dir(app, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    app.config["CRM_UPLOAD_DIR"] = str(blocker / "uploads")
    assert any("cannot write to the upload folder" in m for m in _messages(app, "error"))


def test_sms_and_smtp_settings(app):
    from core.database import set_setting
    from core.extensions import db

    with app.app_context():
        set_setting("sms.provider", "kavenegar")
        set_setting("sms.config", {"sender": "3000"})
        set_setting("smtp.host", "127.0.0.1")
        db.session.commit()
    errors = _messages(app, "error")
    assert any("sms.config: the kavenegar gateway needs api_key" in m for m in errors)
    assert not any("email is not set up" in m for m in _messages(app, "warning"))


def test_license_stages(app):
    from core.database import set_setting
    from core.extensions import db

    with app.app_context():
        set_setting("deployment.initialised_at", BASE.isoformat())
        db.session.commit()
    app.config["CRM_NOW"] = Clock(BASE + timedelta(days=25))
    assert any("expires in" in m for m in _messages(app, "warning"))
    app.config["CRM_NOW"] = Clock(BASE + timedelta(days=400))
    assert any("expired" in m for m in _messages(app, "error"))


def test_redis_unreachable_is_an_error(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    assert any("cannot reach Redis" in m for m in _messages(app, "error"))


def test_redis_reachable(app):
    url = os.environ.get("CRM_TEST_REDIS_URL")
    if not url:
        pytest.skip("CRM_TEST_REDIS_URL is not set: cannot check a live Redis")
    app.config["REDIS_URL"] = url
    assert not any("Redis" in m for m in _messages(app, "error"))


def test_check_command_exits_non_zero_on_errors(app, runner):
    app.config["SECRET_KEY"] = "dev"
    result = runner.invoke(args=["crm", "check"])
    assert result.exit_code == 1
    assert "ERROR: SECRET_KEY is short" in result.output
