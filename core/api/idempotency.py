"""``@idempotent``: a POST sent again with the same Idempotency-Key replays the first response.

The key row is inserted in the request's own transaction before the view runs, so two
concurrent first requests cannot both execute: the second one waits on the unique
constraint (PostgreSQL) or on the write lock (SQLite) and then replays, or hears 409 while
the first one is still running. Decorated views should leave the commit to the decorator,
which commits their work and the stored response together.
"""

import hashlib
from copy import deepcopy
from datetime import timedelta
from functools import wraps

from flask import current_app, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from core.api import problem
from core.api.models import IdempotencyKey, aware
from core.database import utcnow
from core.extensions import db

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255
_SKIPPED_HEADERS = {"set-cookie", "content-length", "date"}
HEADER_DOC = {
    "in": "header", "name": HEADER, "required": False, "schema": {"type": "string",
                                                                  "maxLength": MAX_KEY_LENGTH},
    "description": "A unique key per intended operation: a retry with the same key and body "
                   "replays the first response (header Idempotent-Replayed: true); the same "
                   "key with a different body is refused with 422. Kept for 24 hours.",
}


def _fingerprint() -> str:
    return hashlib.sha256(request.get_data(cache=True)).hexdigest()


def _replay(row: IdempotencyKey):
    response = current_app.response_class(row.body or b"", status=row.status)
    for name, value in (row.headers or {}).items():
        response.headers[name] = value
    response.headers[REPLAYED] = "true"
    return response


def _answer_repeat(row: IdempotencyKey, method_path: str, fingerprint: str):
    if row.method_path != method_path or row.request_hash != fingerprint:
        return problem(422, _("Idempotency key reused"), _(
            "This Idempotency-Key was already used for a different request (%(first)s). "
            "Use a new key for a new request.", first=row.method_path))
    if row.status is None:
        return problem(409, _("Request in progress"), _(
            "The first request with this Idempotency-Key is still running; retry shortly."))
    return _replay(row)


def _existing(user_id: int, key: str) -> IdempotencyKey | None:
    stmt = select(IdempotencyKey).where(IdempotencyKey.user_id == user_id,
                                        IdempotencyKey.key == key)
    return db.session.execute(stmt).scalar()


def idempotent(view):
    """Decorator for POSTs that create money or points: honour the Idempotency-Key header."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return problem(400, _("Bad request"), _(
                "The Idempotency-Key header is longer than %(n)s characters.", n=MAX_KEY_LENGTH))
        user_id = current_user.id
        method_path = f"{request.method} {request.path}"[:500]
        fingerprint = _fingerprint()
        found = _existing(user_id, key)
        if found is not None and aware(found.expires_at) <= utcnow():
            db.session.delete(found)
            db.session.flush()
            found = None
        if found is not None:
            return _answer_repeat(found, method_path, fingerprint)
        row = IdempotencyKey(user_id=user_id, key=key, method_path=method_path,
                             request_hash=fingerprint, expires_at=utcnow() + LIFETIME)
        db.session.add(row)
        try:
            db.session.flush()  # waits for a concurrent first request holding the same key
        except IntegrityError:
            db.session.rollback()
            found = _existing(user_id, key)
            if found is None:  # the other request failed and let the key go: tell to retry
                return problem(409, _("Request in progress"), _(
                    "Another request with this Idempotency-Key just ran; retry it."))
            return _answer_repeat(found, method_path, fingerprint)
        row_id = row.id
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            db.session.rollback()
            _forget(row_id)
            raise
        if response.status_code >= 500:
            db.session.rollback()
            _forget(row_id)
            return response
        stored = db.session.get(IdempotencyKey, row_id)
        if stored is None:  # the view rolled its transaction back: nothing to replay
            return response
        stored.status = response.status_code
        stored.body = response.get_data()
        stored.headers = {k: v for k, v in response.headers.items()
                          if k.lower() not in _SKIPPED_HEADERS}
        db.session.commit()
        return response

    wrapped._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    wrapped._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(HEADER_DOC)
    return wrapped


def _forget(row_id: int) -> None:
    """Drop a key whose request failed (if the view had committed it), so a retry can run."""
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row_id,
                                                    IdempotencyKey.status.is_(None)))
    db.session.commit()


def purge_expired_keys() -> int:
    """Delete idempotency keys older than 24 hours; returns how many went."""
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at
                                                             <= utcnow()))
    db.session.commit()
    return result.rowcount or 0


def commit_unless_keyed() -> None:
    """Commit now, unless ``@idempotent`` will commit the work with its stored response."""
    if not request.headers.get(HEADER, "").strip():
        db.session.commit()
