"""Configuration: class defaults, then environment variables (``CRM_*``, ``DATABASE_URL``...)."""

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_PATH", BASE_DIR / "instance"))

# The vendor's published root key (Ed25519, base64 raw). Only the public half lives here;
# tests and private vendors set CRM_LICENSE_ROOT_KEYS to their own.
VENDOR_ROOT_KEYS = ("6Xyj50YQt84p+sd4tpQEAh5kboDreGROcNcfz9VRFYM=",)


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Config:
    """Defaults for the embedded deployment: SQLite, inline jobs, no other service."""

    SECRET_KEY: str | None = None  # read from the environment or instance/secret_key
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'peyvand.db'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    DATABASE_REPLICA_URL: str | None = None
    REDIS_URL: str | None = None

    CRM_MODULES: list[str] | str = "all"
    CRM_LICENSE_ROOT_KEYS: list[str] = list(VENDOR_ROOT_KEYS)
    CRM_TRIAL_DAYS = 30
    CRM_TRIAL_SEATS = 3
    CRM_EXPIRY_WARNING_DAYS = 30
    CRM_UPLOAD_DIR = str(INSTANCE_DIR / "uploads")
    # Backups (`crm backup`, and the worker's scheduled backup when EVERY_HOURS > 0)
    CRM_BACKUP_DIR = str(INSTANCE_DIR / "backups")
    CRM_BACKUP_EVERY_HOURS = 0  # 0: no scheduled backups
    CRM_BACKUP_KEEP = 7  # scheduled backups kept; older ones are deleted
    CRM_PG_BIN: str | None = None  # folder of pg_dump/pg_restore when not the right ones on PATH

    BABEL_DEFAULT_LOCALE = "fa"
    BABEL_DEFAULT_TIMEZONE = "Asia/Tehran"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    CRM_LANGUAGES = ("fa", "en")
    CRM_CLI_LANGUAGE = "en"  # commands and jobs (terminals rarely do right-to-left)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # set CRM_SECURE_COOKIES=1 behind HTTPS
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    CRM_HSTS = False
    CRM_PROXY_HOPS = 0  # reverse proxies in front that set X-Forwarded-*; 0: trust none
    CRM_LOG_JSON = False  # one JSON object per log line (deploy/gunicorn.conf.py turns it on)
    WTF_CSRF_TIME_LIMIT = None

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    CRM_LOGIN_LIMIT_IP = "20 per minute"
    CRM_LOGIN_LIMIT_ACCOUNT = "10 per 15 minutes"

    API_TITLE = "Peyvand CRM API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_REDOC_PATH = None
    OPENAPI_SWAGGER_UI_PATH = None

    MAIL_FROM = "Peyvand <no-reply@localhost>"
    JOBS_INLINE: bool | None = None  # None: inline exactly when REDIS_URL is not set

    # Customer portal sign-in by one-time code (flask-limiter rate strings)
    CRM_PORTAL_LIMIT_IP = "10 per 10 minutes"
    CRM_PORTAL_LIMIT_DESTINATION = "3 per 10 minutes"
    CRM_PORTAL_LIMIT_CODE = "30 per 10 minutes"
    # After-sales service: ticket files, the support mailbox
    SERVICE_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    SERVICE_MAIL_MAX_BYTES = 20 * 1024 * 1024
    SERVICE_MAIL_POLL_SECONDS = 60
    # Marketing: public lead forms, per IP (flask-limiter rate string)
    CRM_MARKETING_FORM_LIMIT = "20 per 10 minutes"
    # Marketing: the public address in tracking and unsubscribe links when no campaign has been
    # started from a web request yet (e.g. https://crm.example.ir)
    MARKETING_BASE_URL = ""


class TestConfig(Config):
    """A throwaway deployment for one test."""

    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = True
    CRM_LOGIN_LIMIT_IP = "1000 per minute"
    CRM_LOGIN_LIMIT_ACCOUNT = "1000 per minute"
    MAIL_FROM = "Peyvand Test <test@localhost>"
    ARGON2_TIME_COST = 1  # still argon2id, with a cheap cost so the suite stays fast
    ARGON2_MEMORY_COST = 8 * 1024


ENV_OVERRIDES = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,  # → SQLALCHEMY_DATABASE_URI
    "DATABASE_REPLICA_URL": str,
    "REDIS_URL": str,
    "CRM_MODULES": _list,
    "CRM_LICENSE_ROOT_KEYS": _list,
    "CRM_SECURE_COOKIES": _bool,
    "CRM_HSTS": _bool,
    "CRM_UPLOAD_DIR": str,
    "CRM_PROXY_HOPS": int,
    "CRM_LOG_JSON": _bool,
    "CRM_BACKUP_DIR": str,
    "CRM_BACKUP_EVERY_HOURS": int,
    "CRM_BACKUP_KEEP": int,
    "CRM_PG_BIN": str,
    "MAIL_FROM": str,
    "RATELIMIT_STORAGE_URI": str,
    "CRM_SETTINGS_JSON": json.loads,
    "SERVICE_ATTACHMENT_MAX_BYTES": int,
    "SERVICE_MAIL_POLL_SECONDS": int,
    "MARKETING_BASE_URL": str,
}


DEPLOYMENT_KEYS = frozenset({"CRM_MODULES"})


def from_deployment_file(path: Path = INSTANCE_DIR / "deployment.json") -> dict:
    """Deploy-time settings written by ``crm deploy`` (environment variables still win)."""
    if not path.exists():
        return {}
    values = json.loads(path.read_text(encoding="utf-8"))
    unknown = set(values) - DEPLOYMENT_KEYS
    if unknown:
        raise ValueError(f"{path}: unknown keys {', '.join(sorted(unknown))}")
    return values


def from_environment(environ=os.environ) -> dict:
    """Settings given by environment variables, converted to their types."""
    values = {}
    for name, convert in ENV_OVERRIDES.items():
        if name in environ and environ[name] != "":
            values[name] = convert(environ[name])
    if "DATABASE_URL" in values:
        values["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(values.pop("DATABASE_URL"))
    if values.pop("CRM_SECURE_COOKIES", False):
        values.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    if "CRM_SETTINGS_JSON" in values:
        values.update(values.pop("CRM_SETTINGS_JSON"))
    return values


def _normalise_db_url(url: str) -> str:
    """Let ``postgres://`` and ``postgresql://`` URLs use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
