"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, inline in this process otherwise.

``enqueue(func, *args, **kwargs)`` runs ``func`` later, inside an application context:

- RQ mode (``REDIS_URL`` set, ``JOBS_INLINE`` not True): the job goes to the queue
  ``peyvand``; ``flask --app wsgi crm worker`` runs it.
- Inline mode: the job runs in this process.
- RQ mode while Redis does not answer: the job runs in this process too (logged as a
  warning), so nothing is lost; the worker takes the next ones once Redis is back.

Inside a request both modes wait for the request's transaction: a job enqueued while the
session has an open transaction is held until that transaction commits, then runs (inline)
or is queued (RQ) when the view returns; a rollback drops it. Outside a request (CLI,
worker, tests) an inline job runs at once, in the caller's session, and an RQ job is queued
at once. Jobs are module-level functions; they commit their own work.

``periodic(name, every_seconds, func)`` registers a job the worker's scheduler runs on
every tick; ``job(module=...)`` makes a job do nothing while its module is inactive.
"""

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import logs
from core.extensions import db

QUEUE_NAME = "peyvand"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """A job the scheduler runs every ``every`` seconds (once per tick across all workers)."""

    name: str
    every: int
    path: str


_PERIODIC: dict[str, Periodic] = {}
_worker_app: Flask | None = None  # set by the worker: the one app its jobs run in


def func_path(func: Callable) -> str:
    """``module:qualname`` of a module-level function; refuses lambdas and closures."""
    path = f"{func.__module__}:{func.__qualname__}"
    if "<" in func.__qualname__ or resolve(path) is not func:
        raise ValueError(f"jobs must be module-level functions; {path} is not importable")
    return path


def resolve(path: str) -> Callable:
    """The function named by ``module:qualname``."""
    module_name, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def job(module: str | None = None):
    """Decorator: the job does nothing (returns None) while ``module`` is inactive."""

    def decorator(func):
        @wraps(func)
        def wrapped(*args, **kwargs):
            if module is not None:
                from core.modules import is_active

                if not is_active(module):
                    log.info("job %s skipped: module %s is not active", func.__qualname__, module)
                    return None
            return func(*args, **kwargs)

        wrapped._crm_module = module
        return wrapped

    return decorator


def restartable(times: int = 2):
    """Decorator: RQ runs the job again, up to ``times``, when it fails or its worker dies
    mid-run (RQ's registry cleanup finds it abandoned). Only for jobs safe to run twice."""

    def decorator(func):
        func._crm_retries = int(times)
        return func

    return decorator


def is_inline(app: Flask | None = None) -> bool:
    """Whether jobs run in this process (no Redis configured, or JOBS_INLINE=True)."""
    config = (app or current_app).config
    if config.get("JOBS_INLINE") is not None:
        return bool(config["JOBS_INLINE"])
    return not config.get("REDIS_URL")


def enqueue(func: Callable, *args, **kwargs):
    """Run ``func(*args, **kwargs)`` in the background (see the module docstring for when).

    Returns the RQ job when it was queued at once, else None.
    """
    path = func_path(func)
    if has_request_context():
        session = db.session()
        if session.in_transaction():
            session.info.setdefault("crm_jobs_pending", []).append((path, args, kwargs))
        else:
            g.setdefault("crm_jobs_ready", []).append((path, args, kwargs))
        return None
    return _dispatch(path, args, kwargs)


def _dispatch(path: str, args, kwargs):
    if is_inline():
        resolve(path)(*args, **kwargs)
        return None
    from redis.exceptions import ConnectionError as RedisDown
    from redis.exceptions import TimeoutError as RedisSlow

    retries = getattr(resolve(path), "_crm_retries", 0)
    options = {}
    if retries:
        from rq import Retry

        options["retry"] = Retry(max=retries)
    try:
        return queue().enqueue(run_job, path, args, kwargs, **options, **logs.job_options())
    except (RedisDown, RedisSlow) as exc:  # Redis down: run it here rather than lose it
        log.warning("Redis unreachable (%s); running job %s in this process", exc, path)
        resolve(path)(*args, **kwargs)
        return None


def run_job(path: str, args=(), kwargs=None):
    """RQ entry point: run the job at ``path`` inside an application context."""
    app = _app_for_job()
    with app.app_context(), logs.job_context():  # its log lines carry the queuing request's id
        try:
            return resolve(path)(*args, **(kwargs or {}))
        finally:
            db.session.remove()


def _app_for_job() -> Flask:
    """The app a job runs in: the current one (inline, CLI), else the worker's (RQ horses)."""
    global _worker_app
    if has_app_context():  # first: a worker app set earlier in this process is not this app
        return current_app._get_current_object()
    if _worker_app is not None:
        return _worker_app
    from core import create_app

    _worker_app = create_app()
    return _worker_app


def set_worker_app(app: Flask | None) -> None:
    """The app that jobs of this process run in (the worker sets it once)."""
    global _worker_app
    _worker_app = app


# ---- deferral until the request's transaction commits -------------------------------------


def _after_commit(session: Session) -> None:
    pending = session.info.pop("crm_jobs_pending", None)
    if pending and has_request_context():
        g.setdefault("crm_jobs_ready", []).extend(pending)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session.info.pop("crm_jobs_pending", None)


def _run_ready_jobs(response):
    """after_request: queue or run the jobs whose transaction committed."""
    ready = g.pop("crm_jobs_ready", None)
    db.session.info.pop("crm_jobs_pending", None)  # enqueued but never committed
    if not ready:
        return response
    db.session.rollback()  # nothing uncommitted may leak into the jobs' transactions
    for path, args, kwargs in ready:
        try:
            _dispatch(path, args, kwargs)
        except Exception:  # noqa: BLE001 - a failed background job must not fail the response
            log.exception("job %s failed", path)
        finally:
            db.session.rollback()
    return response


# ---- periodic jobs --------------------------------------------------------------------------


def periodic(name: str, every_seconds: int, func: Callable) -> Periodic:
    """Register ``func`` to run every ``every_seconds`` under the worker's scheduler."""
    if every_seconds < 1:
        raise ValueError("a periodic job needs an interval of at least one second")
    entry = Periodic(name, int(every_seconds), func_path(func))
    existing = _PERIODIC.get(name)
    if existing is not None and existing.path != entry.path:
        raise ValueError(f"periodic job {name!r} is already registered as {existing.path}")
    _PERIODIC[name] = entry
    return entry


def periodic_jobs() -> dict[str, Periodic]:
    """Every registered periodic job, by name."""
    return dict(_PERIODIC)


def run_periodic(name: str):
    """Run the periodic job ``name`` (what the scheduler enqueues)."""
    return resolve(_PERIODIC[name].path)()


# ---- queue and status -----------------------------------------------------------------------


def redis_connection(app: Flask | None = None):
    """The app's Redis client (created once)."""
    app = app or current_app
    client = app.extensions.get("crm_redis")
    if client is None:
        from redis import Redis

        client = Redis.from_url(app.config["REDIS_URL"], socket_timeout=5,
                                socket_connect_timeout=5)
        app.extensions["crm_redis"] = client
    return client


def queue_name(app: Flask | None = None) -> str:
    """The RQ queue's name: ``peyvand`` unless ``JOBS_QUEUE`` says otherwise (tests)."""
    return (app or current_app).config.get("JOBS_QUEUE") or QUEUE_NAME


def queue(app: Flask | None = None):
    """The app's RQ queue."""
    from rq import Queue

    return Queue(queue_name(app), connection=redis_connection(app))


def queue_status() -> str:
    """For /healthz: "inline", "ok (N queued)" or "error: ..."."""
    if is_inline():
        return "inline"
    try:
        redis_connection().ping()
        return f"ok ({queue().count} queued)"
    except Exception as exc:  # noqa: BLE001 - any Redis failure makes the queue unhealthy
        return f"error: {exc.__class__.__name__}: {exc}"


def init_app(app: Flask) -> None:
    from core.jobs import cli, progress  # noqa: F401 - worker command; core_job table

    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    app.after_request(_run_ready_jobs)
    progress.init_app(app)
