"""The outbox: messages to other systems, added in the business transaction, delivered later.

``enqueue(kind, payload, aggregate=..., key=...)`` adds a message to the CURRENT transaction
(no commit): it exists exactly when the change that caused it commits. ``@handler(kind)``
registers ``deliver(payload, message)`` which raises on failure. The relay
(``relay_once``, run by the periodic job ``outbox.relay`` and, in a request that enqueued
something, once more right after the commit) delivers due messages:

- in id order, and per aggregate strictly in order: a message waits while an older message
  of the same aggregate is still pending;
- a failure is retried with exponential backoff and jitter (``OUTBOX_BACKOFF_BASE`` seconds,
  doubling, capped at ``OUTBOX_BACKOFF_CAP``) until ``OUTBOX_MAX_ATTEMPTS``, then the message
  is dead; the admin page lists dead messages and retries them;
- two relays at once never deliver the same message: each claims rows first (``FOR UPDATE
  SKIP LOCKED`` on PostgreSQL, a serialised claim under ``core.database.lock`` on SQLite)
  with a lease (``OUTBOX_LEASE_SECONDS``), and records the outcome only under its claim.

Delivery is at least once only if a relay dies between delivering and recording (then the
lease runs out and the message is delivered again): handlers pass ``message.key`` on as the
idempotency key to receivers that accept one.
"""

import json
import uuid

from flask import Flask, g, has_request_context
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.database import utcnow
from core.extensions import db
from core.outbox.models import STATUSES, OutboxMessage
from core.outbox.registry import Handler, handler, handler_for
from core.outbox.relay import relay_job, relay_once, retry, retry_all_dead, status_counts

__all__ = ["STATUSES", "Handler", "OutboxMessage", "enqueue", "handler", "handler_for",
           "relay_job", "relay_once", "retry", "retry_all_dead", "status_counts"]


def enqueue(kind: str, payload: dict, *, aggregate: str | None = None,
            key: str | None = None) -> OutboxMessage:
    """Add a message to the current transaction; with a ``key`` already used, return that one."""
    json.dumps(payload)  # fail here, loudly, rather than at flush time
    if key is not None:
        existing = _by_key(key)
        if existing is not None:
            return existing
    message = OutboxMessage(kind=kind, payload=payload, aggregate=aggregate,
                            key=key or uuid.uuid4().hex, status="pending", attempts=0,
                            next_attempt_at=utcnow(), created_at=utcnow())
    if key is None:
        db.session.add(message)
        db.session.flush()
    else:
        try:
            with db.session.begin_nested():  # a racing transaction may have taken the key
                db.session.add(message)
        except IntegrityError:
            return _by_key(key)
    _relay_after_commit()
    return message


def _by_key(key: str) -> OutboxMessage | None:
    return db.session.execute(select(OutboxMessage).where(OutboxMessage.key == key)).scalar()


def _relay_after_commit() -> None:
    """In a request, run (inline) or queue (RQ) one relay once the request commits."""
    if has_request_context() and not g.get("crm_outbox_relay"):
        from core import jobs

        g.crm_outbox_relay = True
        jobs.enqueue(relay_job)


def init_app(app: Flask) -> None:
    from core import jobs
    from core.outbox import views

    app.config.setdefault("OUTBOX_MAX_ATTEMPTS", 8)
    app.config.setdefault("OUTBOX_BACKOFF_BASE", 30)
    app.config.setdefault("OUTBOX_BACKOFF_CAP", 3600)
    app.config.setdefault("OUTBOX_LEASE_SECONDS", 300)
    app.config.setdefault("OUTBOX_RELAY_SECONDS", 5)
    jobs.periodic("outbox.relay", app.config["OUTBOX_RELAY_SECONDS"], relay_job)
    views.init_app(app)
