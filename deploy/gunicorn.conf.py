"""gunicorn settings for Peyvand: ``gunicorn -c deploy/gunicorn.conf.py wsgi:app``.

Every value can be changed from the environment (the systemd unit's env file):
BIND or PORT, GUNICORN_WORKERS (or WEB_CONCURRENCY), GUNICORN_THREADS, GUNICORN_TIMEOUT,
FORWARDED_ALLOW_IPS, GUNICORN_ACCESS_LOG (0 turns gunicorn's own access lines off),
GUNICORN_MAX_REQUESTS.
"""

import json
import os
from datetime import UTC, datetime

from gunicorn.glogging import Logger

# This file is the production configuration: JSON log lines unless the env file says otherwise.
os.environ.setdefault("CRM_LOG_JSON", "1")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip().isdigit() else default


bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# SQLite deployments should run one worker (crm check says so); threads still serve in parallel.
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)  # a worker silent this long is killed and replaced
graceful_timeout = 30  # requests in flight may finish on restart/reload
keepalive = 5  # behind nginx on the same host
# Recycle a worker now and then (a bound on any slow memory growth); the jitter keeps them
# from all restarting at once. A new worker builds the app (~2.5 s of CPU) and answers its
# first requests slowly, so not too often: at 100 requests a second over 5 workers, hourly.
max_requests = _int("GUNICORN_MAX_REQUESTS", 50000)
max_requests_jitter = 5000
preload_app = False  # each worker builds its own app, database pool and Redis connections
# Only the proxy on this host may say who the client is and that the request came over HTTPS.
# Peyvand itself believes X-Forwarded-* only through CRM_PROXY_HOPS (ProxyFix).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips
limit_request_line = 8190
limit_request_field_size = 8190
control_socket_disable = True  # no ~/.gunicorn socket: the service user has no writable home

accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "1") != "0" else None  # stdout
errorlog = "-"  # stderr
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


class JsonAccessLogger(Logger):
    """gunicorn's access lines as one JSON object each (values escaped, unlike a format string)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((k.lower(), v) for k, v in (resp.headers or []))
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} {status}",
            "request_id": headers.get("x-request-id"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(json.dumps({k: v for k, v in entry.items() if v is not None},
                                            ensure_ascii=False))
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.exception("access log line failed")


logger_class = JsonAccessLogger


def post_worker_init(worker):
    """Freeze what building the app made (~300,000 objects): Python's full garbage
    collection would walk them all every so often (~150 ms with the GIL held, longer on a
    busy machine), stalling every thread of the worker; frozen, it walks only what requests
    leave behind."""
    import gc

    gc.collect()
    gc.freeze()
