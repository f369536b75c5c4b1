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
                  check_smtp, check_sms, check_license, check_proxy_and_https,
                  check_web_workers, check_replica, check_backups):
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


def is_production(app: Flask) -> bool:
    """Neither a debug server nor a test run."""
    return not (app.debug or app.testing)


def check_proxy_and_https(app: Flask) -> list[tuple[str, str]]:
    """Proxy hops, HTTPS-only cookies and HSTS agree with each other; jobs have a queue."""
    problems = []
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    hops = int(app.config.get("CRM_PROXY_HOPS") or 0)
    if hops and not secure:
        problems.append(("warning", f"CRM_PROXY_HOPS={hops} says a reverse proxy is in front, "
                                    "but cookies are not HTTPS-only; if the proxy serves "
                                    "HTTPS set CRM_SECURE_COOKIES=1"))
    if hops < 0:
        problems.append(("error", "CRM_PROXY_HOPS cannot be negative; set it to the number of "
                                  "proxies in front (0 when there is none)"))
    if app.config.get("CRM_HSTS") and not secure:
        problems.append(("warning", "CRM_HSTS is on but cookies are not HTTPS-only; set "
                                    "CRM_SECURE_COOKIES=1 as well (or CRM_HSTS=0 on a LAN "
                                    "without HTTPS)"))
    if not app.config.get("REDIS_URL"):
        problems.append(("warning", "REDIS_URL is not set: background jobs (campaigns, imports, "
                                    "deliveries) run inline inside web requests and rate limits "
                                    "are counted per process; set REDIS_URL and run "
                                    "`flask --app wsgi crm worker`"))
    return problems


def gunicorn_workers() -> int:
    """The web processes deploy/gunicorn.conf.py starts (GUNICORN_WORKERS or 2 × cores + 1)."""
    value = os.environ.get("GUNICORN_WORKERS") or os.environ.get("WEB_CONCURRENCY")
    if value and value.isdigit():
        return int(value)
    return 2 * (os.cpu_count() or 1) + 1


def check_web_workers(app: Flask) -> list[tuple[str, str]]:
    """SQLite serialises writes: several web processes mostly wait for each other."""
    if db.engine.dialect.name != "sqlite" or not is_production(app):
        return []
    workers = gunicorn_workers()
    if workers <= 1:
        return []
    return [("warning", f"the database is SQLite and gunicorn would start {workers} worker "
                        "processes; their writes wait for one another. Set GUNICORN_WORKERS=1 "
                        "(threads still serve requests at once) or use PostgreSQL "
                        "(DATABASE_URL)")]


def check_replica(app: Flask) -> list[tuple[str, str]]:
    """The read replica answers when DATABASE_REPLICA_URL is set."""
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return []
    from sqlalchemy import create_engine

    from config import _normalise_db_url

    engine = None
    try:
        args = {"connect_timeout": 3} if url.startswith(("postgres", "postgresql")) else {}
        engine = create_engine(_normalise_db_url(url), connect_args=args)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means analytics cannot use it
        return [("error", f"cannot reach the read replica at DATABASE_REPLICA_URL "
                          f"({exc.__class__.__name__}); fix the URL or unset it")]
    finally:
        if engine is not None:
            engine.dispose()
    return []


def check_backups(app: Flask) -> list[tuple[str, str]]:
    """Scheduled backups are on and their folder can be written."""
    hours = int(app.config.get("CRM_BACKUP_EVERY_HOURS") or 0)
    folder = Path(app.config["CRM_BACKUP_DIR"])
    if hours <= 0:
        if not is_production(app):
            return []
        return [("warning", "scheduled backups are off; set CRM_BACKUP_EVERY_HOURS (e.g. 24) "
                            "and CRM_BACKUP_KEEP, or run `flask --app wsgi crm backup` from "
                            "cron")]
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return [("error", f"cannot write to the backup folder {folder} ({exc.strerror}); "
                          "set CRM_BACKUP_DIR to a writable folder")]
    if int(app.config.get("CRM_BACKUP_KEEP") or 0) < 1:
        return [("error", "CRM_BACKUP_KEEP must be at least 1")]
    if folder.resolve().is_relative_to(Path(app.instance_path).resolve()):
        return [("warning", f"backups are kept in {folder}, on the same disk as the data; "
                            "copy them elsewhere too")]
    return []
