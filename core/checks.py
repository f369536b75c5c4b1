"""``crm check``: a deployment's misconfigurations in plain words."""

import os
import tempfile
from pathlib import Path

from flask import Flask
from sqlalchemy import inspect, text

from core.extensions import db

WEAK_SECRETS = frozenset({"dev", "secret", "change-me", "changeme", "test-secret-key"})


def run_checks(app: Flask) -> list[tuple[str, str]]:
    """A list of (level, message); level is "error" or "warning"."""
    problems: list[tuple[str, str]] = []
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        return [("error", f"cannot reach the database ({exc.__class__.__name__}); "
                          "check DATABASE_URL")]
    if "core_setting" not in inspect(db.engine).get_table_names():
        problems.append(("error", "the database is empty: run `flask --app wsgi crm init`"))
        return problems
    from core.bootstrap import deployment_id

    if deployment_id() is None:
        problems.append(("error", "no deployment id yet: run `flask --app wsgi crm init`"))
    for check in (check_migrations, check_secret_key, check_upload_dir, check_redis,
                  check_smtp, check_sms, check_license):
        problems.extend(check(app))
    if app.config.get("SESSION_COOKIE_SECURE") is False and not app.debug:
        problems.append(("warning", "cookies are not HTTPS-only; set CRM_SECURE_COOKIES=1 "
                                    "behind HTTPS"))
    for check in app.extensions.get("crm_checks", []):
        problems.extend(check(app))
    return problems


def check_migrations(app: Flask) -> list[tuple[str, str]]:
    """The database schema is at the newest migration (skipped while there are none)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from core.database import MIGRATIONS_DIR

    if not Path(MIGRATIONS_DIR, "versions").is_dir():
        return []
    heads = set(ScriptDirectory(MIGRATIONS_DIR).get_heads())
    if not heads:
        return []
    with db.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current == heads:
        return []
    if not current:
        return [("error", "the database has no migration history; run "
                          "`flask --app wsgi crm init`")]
    return [("error", f"the database is at migration {', '.join(sorted(current))} but this "
                      f"version needs {', '.join(sorted(heads))}; run `flask --app wsgi crm init`")]


def check_secret_key(app: Flask) -> list[tuple[str, str]]:
    """Where SECRET_KEY comes from, and whether it is strong and shared by every server."""
    key = app.config.get("SECRET_KEY") or ""
    if key in WEAK_SECRETS or len(key) < 32:
        return [("error", "SECRET_KEY is short or a well-known value; set a random one of at "
                          "least 32 characters (e.g. `python -c 'import secrets; "
                          "print(secrets.token_urlsafe(48))'`)")]
    if os.environ.get("SECRET_KEY"):
        return []
    path = Path(app.instance_path) / "secret_key"
    problems = []
    if path.exists() and path.read_text().strip() == key:
        if path.stat().st_mode & 0o077:
            problems.append(("warning", f"{path} can be read by other system users; "
                                        f"run `chmod 600 {path}`"))
        if app.config.get("REDIS_URL") or not app.config["SQLALCHEMY_DATABASE_URI"].startswith(
                "sqlite"):
            problems.append(("warning", f"SECRET_KEY comes from {path}; with several web "
                                        "servers set the same SECRET_KEY in each one's "
                                        "environment, or sessions break between them"))
    return problems


def check_upload_dir(app: Flask) -> list[tuple[str, str]]:
    """Uploaded files (logo, imports, attachments) can be stored."""
    folder = Path(app.config["CRM_UPLOAD_DIR"])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return [("error", f"cannot write to the upload folder {folder} ({exc.strerror}); "
                          "set CRM_UPLOAD_DIR to a writable folder")]
    return []


def check_redis(app: Flask) -> list[tuple[str, str]]:
    """Redis answers when REDIS_URL is set."""
    if not app.config.get("REDIS_URL"):
        return []
    try:
        import redis

        redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means the queue is down
        return [("error", f"cannot reach Redis at REDIS_URL ({exc.__class__.__name__}); "
                          "jobs and rate limits need it")]
    return []


def check_smtp(app: Flask) -> list[tuple[str, str]]:
    """Email is set up, or it is said plainly that it is not."""
    from core.database import get_setting

    if get_setting("smtp.host") or app.config.get("MAIL_SERVER"):
        if not (get_setting("smtp.from") or app.config.get("MAIL_FROM")):
            return [("warning", "email has no sender address; set smtp.from in the settings")]
        return []
    return [("warning", "email is not set up (no SMTP server): invitations and notifications "
                        "wait in the outbox; set SMTP in Administration → Settings or with "
                        "`crm deploy`")]


def check_sms(app: Flask) -> list[tuple[str, str]]:
    """The SMS gateway named in the settings exists and has what it needs."""
    from core.admin.settings import sms_problems
    from core.database import get_setting

    provider = get_setting("sms.provider") or app.config.get("SMS_PROVIDER")
    if not provider:
        return [("warning", "SMS is not set up (no sms.provider): text messages cannot be sent")]
    config = get_setting("sms.config") or app.config.get("SMS_CONFIG") or {}
    return [("error", f"{key}: {reason}") for key, reason in sms_problems(provider, config).items()]


def check_license(app: Flask) -> list[tuple[str, str]]:
    """The license's stage: expiring, in grace, read-only, or a clock that went back."""
    from core import licensing

    state = licensing.current_state()
    stage = getattr(state, "stage", "active")
    problems = []
    if getattr(state, "notice", ""):
        problems.append(("warning", state.notice))
    if stage in ("read_only", "clock_rollback"):
        problems.append(("error", state.reason))
    elif stage == "grace":
        problems.append(("warning", f"the {state.kind} license has expired; writes stop "
                                    f"in {state.grace_days_left} day(s); ask your reseller "
                                    "for a new license"))
    elif stage == "warning":
        problems.append(("warning", f"the {state.kind} license expires in {state.days_left} "
                                    "day(s); ask your reseller for a new license"))
    return problems
