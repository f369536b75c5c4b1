"""Events → one outbox message per interested endpoint → a signed POST, retried by the outbox.

Each POST carries a JSON envelope ``{"id", "event", "created_at", "data"}`` and the headers
``X-Peyvand-Event``, ``X-Peyvand-Delivery`` (unique per endpoint and event: use it to drop
duplicates), ``X-Peyvand-Timestamp`` (Unix seconds) and ``X-Peyvand-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the endpoint's secret>``.
"""

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, has_app_context
from sqlalchemy import select, update

from core import outbox
from core.database import utcnow
from core.extensions import db
from core.webhooks.models import WebhookEndpoint

KIND = "webhook"
USER_AGENT = "Peyvand-Webhooks/1"


class WebhookDeliveryError(RuntimeError):
    """The receiver did not accept a delivery (the outbox retries it)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Peyvand-Signature`` value for a body sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, signature: str, timestamp: str, body: bytes,
           tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


def to_json(value):
    """A JSON-safe view of an event argument (models give ``webhook_data()`` or type and id)."""
    if hasattr(value, "webhook_data"):
        return value.webhook_data()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    table = getattr(value, "__tablename__", None)
    if table is not None:
        return {"type": table, "id": getattr(value, "id", None)}
    return str(value)


def body_bytes(envelope: dict) -> bytes:
    """The exact bytes POSTed (and signed) for an event envelope."""
    return json.dumps(envelope, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def enqueue_event(event: str, data: dict, endpoints=None) -> list:
    """Queue ``event`` for every active endpoint that wants it (or for ``endpoints``).

    The messages join the current transaction: they exist exactly when the change commits.
    """
    if endpoints is None:
        active = select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True))
        endpoints = [e for e in db.session.execute(active).scalars() if e.wants(event)]
    event_id = uuid.uuid4().hex
    envelope = {"id": event_id, "event": event, "created_at": utcnow().isoformat(),
                "data": to_json(data)}
    messages = []
    for endpoint in endpoints:
        key = f"webhook:{endpoint.id}:{event_id}"
        messages.append(outbox.enqueue(KIND, {"endpoint_id": endpoint.id, "envelope": envelope},
                                       aggregate=f"webhook:{endpoint.id}", key=key))
    return messages


def receiver(event: str):
    """A blinker receiver that turns ``signal.send(sender, **kwargs)`` into webhook messages."""

    def on_event(sender, **kwargs):
        if not has_app_context() or "crm_webhooks" not in current_app.extensions:
            return
        data = dict(kwargs)
        if sender is not None and not hasattr(sender, "wsgi_app"):
            data.setdefault("object", sender)
        enqueue_event(event, data)

    on_event.__name__ = f"on_{event}"
    return on_event


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer other than 2xx: fail and retry


_opener = urllib.request.build_opener(_NoRedirects)


def _note(payload: dict, result: str) -> None:
    db.session.execute(update(WebhookEndpoint).where(
        WebhookEndpoint.id == payload["endpoint_id"]).values(
        last_delivery_at=utcnow(), last_result=result[:300]))


def on_success(payload: dict, _message, result) -> None:
    _note(payload, f"ok {result}")


def on_failure(payload: dict, _message, error: str, dead: bool) -> None:
    _note(payload, ("dead: " if dead else "retrying: ") + error)


@outbox.handler(KIND, on_success=on_success, on_failure=on_failure)
def deliver(payload: dict, message) -> str:
    """POST one event to its endpoint; anything but 2xx raises so the outbox retries."""
    endpoint = db.session.get(WebhookEndpoint, payload["endpoint_id"])
    target = (endpoint.url, endpoint.secret) if endpoint is not None and endpoint.active else None
    db.session.rollback()  # no transaction stays open during network I/O
    if target is None:
        return "skipped: endpoint removed or disabled"
    url, secret = target
    envelope = payload["envelope"]
    body = body_bytes(envelope)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Peyvand-Event": envelope["event"],
        "X-Peyvand-Delivery": message.key,
        "X-Peyvand-Timestamp": timestamp,
        "X-Peyvand-Signature": sign(secret, timestamp, body),
    })
    timeout = current_app.config.get("WEBHOOK_TIMEOUT", 10)
    try:
        with _opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise WebhookDeliveryError(f"{url} answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise WebhookDeliveryError(f"{url} could not be reached: {exc}") from exc
    if not 200 <= status < 300:
        raise WebhookDeliveryError(f"{url} answered {status}")
    return f"{status}"

