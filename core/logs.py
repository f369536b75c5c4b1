"""Request ids and structured logs: one JSON object per line when ``CRM_LOG_JSON`` is on.

Every request gets an id: a well-formed incoming ``X-Request-ID`` (set by nginx, say) is kept,
anything else is replaced by a fresh one. The id is on ``g.request_id``, in the response's
``X-Request-ID`` header and on every log line written while the request runs; a ``request``
line per request says how it went (method, path, status, duration, user, remote address).
"""

import json
import logging
import re
import sys
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
ACCESS_LOGGER = "peyvand.request"
CONTEXT_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id",
                  "remote_addr")

QUIET_LIBRARIES = ("weasyprint", "fontTools")

access_log = logging.getLogger(ACCESS_LOGGER)
_job_request_id: ContextVar[str | None] = ContextVar("crm_job_request_id", default=None)


def request_id() -> str | None:
    """The current request's id, or in an RQ job the id of the request that queued it."""
    if has_request_context():
        return g.get("request_id")
    return _job_request_id.get()


def job_options() -> dict:
    """Extra ``Queue.enqueue`` arguments: the queuing request's id travels in the job's meta."""
    rid = request_id()
    return {"meta": {"request_id": rid}} if rid else {}


@contextmanager
def job_context():
    """Inside an RQ job: log lines carry the request id of the request that queued it."""
    from rq import get_current_job

    job = get_current_job()
    token = _job_request_id.set((job.meta or {}).get("request_id") if job else None)
    try:
        yield
    finally:
        _job_request_id.reset(token)


def _incoming_id() -> str:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if VALID_REQUEST_ID.fullmatch(value) else uuid.uuid4().hex


def _start_request() -> None:
    g.request_id = _incoming_id()
    g.request_started = time.perf_counter()


def _finish_request(response):
    rid = g.get("request_id") or _incoming_id()
    response.headers[REQUEST_ID_HEADER] = rid
    started = g.get("request_started")
    duration = round((time.perf_counter() - started) * 1000, 1) if started else None
    access_log.info("%s %s %s", request.method, request.path, response.status_code,
                    extra={"status": response.status_code, "duration_ms": duration})
    return response


class RequestContextFilter(logging.Filter):
    """Puts the request's id, method, path, user and remote address on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(record, "request_id", None) or g.get("request_id")
            record.method = request.method
            record.path = request.path
            record.remote_addr = request.remote_addr
            user = g.get("_login_user")  # flask-login's cache: never loads the user for a log
            if user is not None and getattr(user, "is_authenticated", False):
                record.user_id = user.get_id()
        elif _job_request_id.get():
            record.request_id = getattr(record, "request_id", None) or _job_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the request's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at the time (gunicorn and pytest replace it)."""

    crm_json = True

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def install_json_handler() -> logging.Handler:
    """Send every log record to stdout as JSON (replaces a handler installed before)."""
    root = logging.getLogger()
    remove_json_handler()
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.crm_previous_levels = {"": root.level}
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for chatty in QUIET_LIBRARIES:  # their INFO lines are progress chatter (a line per PDF step)
        library = logging.getLogger(chatty)
        if library.level == logging.NOTSET:
            handler.crm_previous_levels[chatty] = library.level
            library.setLevel(logging.WARNING)
    return handler


def remove_json_handler() -> None:
    """Take the JSON handler off and put the levels back (tests, a second app in one process)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "crm_json", False):
            root.removeHandler(handler)
            for name, level in getattr(handler, "crm_previous_levels", {}).items():
                logging.getLogger(name or None).setLevel(level)


def init_app(app: Flask) -> None:
    # Alembic's env.py runs logging.config.fileConfig, which disables every logger that
    # existed before it (an upgrade earlier in this process would silence these two).
    access_log.disabled = app.logger.disabled = False
    app.before_request(_start_request)
    app.after_request(_finish_request)
    if app.config.get("CRM_LOG_JSON"):
        from flask.logging import default_handler

        app.logger.removeHandler(default_handler)  # the root's JSON handler writes its records
        install_json_handler()
