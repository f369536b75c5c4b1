"""The relay: claim due messages, deliver them, record the outcome (see ``core.outbox``)."""

import logging
import os
import random
import socket
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import aliased

from core.database import lock, utcnow
from core.extensions import db
from core.outbox.models import STATUSES, OutboxMessage
from core.outbox.registry import handler_for

log = logging.getLogger(__name__)

_pass_cache: ContextVar[dict | None] = ContextVar("crm_outbox_pass", default=None)


def pass_cache() -> dict | None:
    """A dict that lives for one relay pass, None outside one. Handlers keep what they can
    reuse from one message to the next in it (settings, an open SMTP connection); values with
    a ``close()`` are closed when the pass ends."""
    return _pass_cache.get()


@contextmanager
def _relay_pass():
    cache: dict = {}
    reset = _pass_cache.set(cache)
    try:
        yield cache
    finally:
        _pass_cache.reset(reset)
        for value in cache.values():
            close = getattr(value, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - a connection that died is closed already
                    log.debug("closing a relay-pass resource failed", exc_info=True)


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Delay before the next try after ``attempts`` failures: exponential, capped, jittered.

    "Equal jitter": half the exponential delay for sure, the other half at random, so that
    messages that failed together do not all come back at the same instant.
    """
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # nosec B311  # retry jitter


def _due(now: datetime):
    """Pending, due, unclaimed messages with no older pending message of their aggregate."""
    older = aliased(OutboxMessage)
    blocked = exists().where(
        older.aggregate == OutboxMessage.aggregate,
        older.status == "pending",
        older.id < OutboxMessage.id,
    )
    return (
        OutboxMessage.status == "pending",
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        or_(OutboxMessage.aggregate.is_(None), ~blocked),
    )


def _claim(now: datetime, limit: int, token: str, lease: timedelta) -> list[int]:
    """Take a lease on up to ``limit`` due messages; returns the ids this relay now owns."""
    stmt = select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    else:
        lock("outbox.claim")  # SQLite: one claimer at a time, write lock taken first
    ids = list(db.session.execute(stmt).scalars())
    if ids:
        db.session.execute(
            update(OutboxMessage).execution_options(synchronize_session=False)
            .where(OutboxMessage.id.in_(ids), *_due(now)[:3])
            .values(claimed_by=token, claimed_until=now + lease)
        )
        ids = list(db.session.execute(
            select(OutboxMessage.id).where(OutboxMessage.claimed_by == token)
            .order_by(OutboxMessage.id)
        ).scalars())
    db.session.commit()
    return ids


def relay_once(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Deliver the messages due at ``now``; returns counts of delivered, retried and dead.

    It runs and commits its own transactions: call it with no transaction open.
    """
    now = (now or utcnow()).astimezone(UTC)
    config = current_app.config
    lease = timedelta(seconds=config["OUTBOX_LEASE_SECONDS"])
    token = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    counts = {"delivered": 0, "retry": 0, "dead": 0, "waiting": 0}
    seen = 0
    with _relay_pass():
        while seen < limit:
            ids = _claim(now, limit - seen, token, lease)
            if not ids:
                break
            seen += len(ids)
            for message_id in ids:
                counts[_deliver(message_id, token, now)] += 1
    return counts


def _deliver(message_id: int, token: str, now: datetime) -> str:
    # Read the message, then end that read transaction before talking to the remote system:
    # no lock is held during network I/O, and on SQLite every transaction that records an
    # outcome starts with a write (a read-then-write transaction could hit a stale snapshot).
    message = db.session.get(OutboxMessage, message_id)
    db.session.expunge(message)
    db.session.rollback()
    entry = handler_for(message.kind)
    if entry is not None and entry.module is not None:
        from core.modules import is_active

        active = is_active(entry.module)
        db.session.rollback()
        if not active:  # wait, untried, until the module is licensed again
            _release(message_id, token, now + timedelta(seconds=_config("OUTBOX_BACKOFF_BASE")))
            return "waiting"
    try:
        if entry is None:
            raise LookupError(f"no handler is registered for outbox kind {message.kind!r}")
        result = entry.deliver(dict(message.payload), message)
        db.session.flush()
    except Exception as exc:  # noqa: BLE001 - any failure of a remote system is retried
        db.session.rollback()
        return _record_failure(message, token, now, exc)
    done = db.session.execute(
        update(OutboxMessage).execution_options(synchronize_session=False)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == token)
        .values(status="delivered", delivered_at=utcnow(), attempts=OutboxMessage.attempts + 1,
                last_error=None, claimed_by=None, claimed_until=None)
    )
    if done.rowcount != 1:
        log.warning("outbox message %s was delivered after this relay's lease ran out", message_id)
    if entry.on_success is not None:
        entry.on_success(dict(message.payload), message, result)
    db.session.commit()
    return "delivered"


def _record_failure(message: OutboxMessage, token: str, now: datetime, exc: Exception) -> str:
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    mine = (OutboxMessage.id == message.id, OutboxMessage.claimed_by == token)
    db.session.execute(  # first statement: a write (see _deliver)
        update(OutboxMessage).execution_options(synchronize_session=False)
        .where(*mine).values(attempts=OutboxMessage.attempts + 1, last_error=error)
    )
    attempts = db.session.scalar(select(OutboxMessage.attempts).where(*mine))
    if attempts is None:  # the lease ran out and another relay owns the message now
        db.session.commit()
        return "retry"
    dead = attempts >= _config("OUTBOX_MAX_ATTEMPTS")
    delay = backoff_seconds(attempts, _config("OUTBOX_BACKOFF_BASE"), _config("OUTBOX_BACKOFF_CAP"))
    db.session.execute(
        update(OutboxMessage).execution_options(synchronize_session=False)
        .where(*mine)
        .values(status="dead" if dead else "pending", claimed_by=None, claimed_until=None,
                next_attempt_at=now + timedelta(seconds=delay))
    )
    entry = handler_for(message.kind)
    if entry is not None and entry.on_failure is not None:
        entry.on_failure(dict(message.payload), message, error, dead)
    db.session.commit()
    log.warning("outbox message %s (%s) failed, attempt %s%s: %s", message.id, message.kind,
                attempts, ", now dead" if dead else "", error)
    return "dead" if dead else "retry"


def _release(message_id: int, token: str, next_attempt_at: datetime) -> None:
    db.session.execute(
        update(OutboxMessage).execution_options(synchronize_session=False)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == token)
        .values(claimed_by=None, claimed_until=None, next_attempt_at=next_attempt_at)
    )
    db.session.commit()


def _config(name: str):
    return current_app.config[name]


def relay_job() -> dict:
    """The periodic job ``outbox.relay``."""
    return relay_once()


def retry(message_id: int) -> bool:
    """Make a dead (or waiting) message pending again with its attempts reset (caller commits)."""
    result = db.session.execute(
        update(OutboxMessage).execution_options(synchronize_session="fetch")
        .where(OutboxMessage.id == message_id, OutboxMessage.status != "delivered")
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), claimed_by=None,
                claimed_until=None)
    )
    return result.rowcount == 1


def retry_all_dead() -> int:
    """Make every dead message pending again (caller commits); returns how many."""
    result = db.session.execute(
        update(OutboxMessage).execution_options(synchronize_session="fetch")
        .where(OutboxMessage.status == "dead")
        .values(status="pending", attempts=0, next_attempt_at=utcnow(), claimed_by=None,
                claimed_until=None)
    )
    return result.rowcount


def status_counts() -> dict[str, int]:
    """How many messages are pending, delivered and dead."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts
