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


def test_proxy_hops_and_hsts_without_https_only_cookies(app):
    app.config.update(CRM_PROXY_HOPS=1, CRM_HSTS=True, SESSION_COOKIE_SECURE=False)
    warnings = _messages(app, "warning")
    assert any(m.startswith("CRM_PROXY_HOPS=1 says a reverse proxy is in front") for m in warnings)
    assert any(m.startswith("CRM_HSTS is on but cookies are not HTTPS-only") for m in warnings)
    app.config.update(SESSION_COOKIE_SECURE=True)
    warnings = " ".join(_messages(app, "warning"))
    assert "CRM_PROXY_HOPS" not in warnings and "CRM_HSTS" not in warnings


def test_jobs_inline_without_redis_is_said(app):
    app.config["REDIS_URL"] = None
    assert any(m.startswith("REDIS_URL is not set: background jobs") for m in
               _messages(app, "warning"))


def test_unreachable_read_replica_is_an_error(app, tmp_path):
    app.config["DATABASE_REPLICA_URL"] = "postgresql://nobody@127.0.0.1:1/none"
    assert any(m.startswith("cannot reach the read replica at DATABASE_REPLICA_URL")
               for m in _messages(app, "error"))
    app.config["DATABASE_REPLICA_URL"] = f"sqlite:///{tmp_path / 'replica.db'}"
    assert not any("read replica" in m for m in _messages(app, "error"))


def test_backups_off_in_production_and_an_unwritable_backup_folder(app, tmp_path):
    app.config.update(TESTING=False, CRM_BACKUP_EVERY_HOURS=0)
    assert any(m.startswith("scheduled backups are off") for m in _messages(app, "warning"))
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    app.config.update(CRM_BACKUP_EVERY_HOURS=24, CRM_BACKUP_DIR=str(blocker / "backups"))
    assert any(m.startswith(f"cannot write to the backup folder {blocker / 'backups'}")
               for m in _messages(app, "error"))
    app.config.update(CRM_BACKUP_DIR=str(tmp_path / "elsewhere"))
    problems = " ".join(m for _level, m in _problems(app))
    assert "backup" not in problems


def test_sqlite_with_several_gunicorn_workers_is_a_warning(app, monkeypatch):
    from core.extensions import db

    app.config["TESTING"] = False
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    found = [m for m in _messages(app, "warning") if "gunicorn would start 5 worker" in m]
    assert len(found) == (1 if sqlite else 0)
    monkeypatch.setenv("GUNICORN_WORKERS", "1")
    assert not any("gunicorn would start" in m for m in _messages(app, "warning"))
