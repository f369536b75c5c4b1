"""``crm check``: a deployment's misconfigurations in plain words."""

from flask import Flask
from sqlalchemy import inspect, text

from core.extensions import db


def run_checks(app: Flask) -> list[tuple[str, str]]:
    """A list of (level, message); level is "error" or "warning"."""
    problems: list[tuple[str, str]] = []
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        return [("error", f"cannot reach the database ({exc.__class__.__name__}); check DATABASE_URL")]
    if "core_setting" not in inspect(db.engine).get_table_names():
        problems.append(("error", "the database is empty: run `flask --app wsgi crm init`"))
        return problems
    from core.bootstrap import deployment_id

    if deployment_id() is None:
        problems.append(("error", "no deployment id yet: run `flask --app wsgi crm init`"))
    if app.config.get("REDIS_URL"):
        try:
            import redis

            redis.Redis.from_url(app.config["REDIS_URL"]).ping()
        except Exception as exc:  # noqa: BLE001
            problems.append(("error", f"cannot reach Redis at REDIS_URL ({exc.__class__.__name__})"))
    if app.config.get("SESSION_COOKIE_SECURE") is False and not app.debug:
        problems.append(("warning", "cookies are not HTTPS-only; set CRM_SECURE_COOKIES=1 behind HTTPS"))
    for check in app.extensions.get("crm_checks", []):
        problems.extend(check(app))
    return problems
