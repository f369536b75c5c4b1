"""Journal entries delivered to accounting systems through the core outbox, exactly once.

Every entry posted while a REST connector is enabled gets one outbox message per connector,
in the entry's own transaction (``journal.ENTRY_POSTED``): aggregate
``accounting:<source_type>:<source_id>`` (the relay delivers the entries of one document
strictly in order), key ``accounting:<connector id>:<entry id>``. The relay POSTs it:

    POST <connector url>
    Content-Type: application/json; charset=utf-8
    Idempotency-Key: accounting:<connector id>:<entry id>   (the same on every retry)
    X-Peyvand-Timestamp: <Unix seconds>
    X-Peyvand-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>", connector secret>

    {"type": "journal_entry", "entry": {
       "id": 41, "reference": "1405-17", "fiscal_year": 1405, "number": 17,
       "date": "2026-11-26", "date_jalali": "1405-09-05", "kind": "invoice",
       "description": "...", "total": 1090000, "reverses": null,
       "document": {"type": "sales.invoice", "id": 12, "reference": "INV-1405-12"},
       "customer": {"id": 7, "name": "..."} | null,
       "lines": [{"position": 0, "account_code": "1104", "account_name": "...",
                  "role": "receivables", "debit": 1090000, "credit": 0, "memo": ""}, ...]}}

The signature is the core webhooks' (``core.webhooks.delivery.sign``/``verify``). Anything
but a 2xx answer, a timeout or a dropped connection raises, so the outbox retries with
backoff and finally dead-letters; a receiver drops repeats by ``Idempotency-Key``. A
connector disabled after its messages were queued makes them fail ("connector disabled") so
they end in the dead-letter list, to be retried once it is enabled again.
"""

import http.client
import json
import secrets
import socket
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import func, select

from core import outbox
from core.database import utcnow
from core.extensions import db
from core.i18n import local_date, to_jalali, to_tehran
from core.outbox.models import OutboxMessage
from core.outbox.relay import pass_cache
from core.webhooks.delivery import sign
from modules.accounting_link.models.delivery import Connector, Delivery
from modules.accounting_link.models.journal import JournalEntry

KIND = "accounting.entry"
USER_AGENT = "Peyvand-Accounting/1"
MIN_TIMEOUT, MAX_TIMEOUT = 1, 60


class DeliveryError(RuntimeError):
    """The accounting system did not accept an entry (the outbox retries it)."""


class ConnectorError(ValueError):
    """A connector that cannot be saved as given (the message says why)."""


# --- connectors --------------------------------------------------------------------------

def new_secret() -> str:
    return "acsec_" + secrets.token_urlsafe(32)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a connector's endpoint, or None."""
    url = (url or "").strip()
    if not url:
        return _("Enter the address of the accounting system's endpoint.")
    if any(c.isspace() for c in url):
        return _("The address cannot contain spaces.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return _("The address must start with http:// or https://.")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return _("The port in the address is not a number.")
    if not parts.hostname:
        return _("The address needs a host name, e.g. https://books.example.ir/peyvand.")
    return None


def save_connector(connector: Connector | None, *, name: str, url: str, timeout: float,
                   enabled: bool = True) -> Connector:
    """Add a connector (with a fresh secret) or change one; raises ``ConnectorError``."""
    name, url = (name or "").strip(), (url or "").strip()
    if not name:
        raise ConnectorError(_("Give the connector a name."))
    problem = url_problem(url)
    if problem:
        raise ConnectorError(problem)
    clash = db.session.execute(select(Connector).where(Connector.name == name)).scalar()
    if clash is not None and clash is not connector:
        raise ConnectorError(_("Another connector is named %(name)s.", name=name))
    if connector is None:
        connector = Connector(kind="rest", secret=new_secret())
        db.session.add(connector)
    connector.name, connector.url = name, url
    connector.timeout, connector.enabled = float(timeout), bool(enabled)
    db.session.flush()
    return connector


def renew_secret(connector: Connector) -> str:
    """A new signing secret (the caller shows it once); later deliveries use it."""
    connector.secret = new_secret()
    return connector.secret


# --- queueing ----------------------------------------------------------------------------

def entry_document(entry: JournalEntry) -> dict:
    """The JSON document of one entry (see the module docstring)."""
    customer = None
    if entry.customer_id is not None:
        from core.customers.models import Customer

        found = db.session.get(Customer, entry.customer_id)
        customer = {"id": entry.customer_id,
                    "name": found.display_name if found is not None else ""}
    reverses = entry.reverses
    return {
        "id": entry.id, "reference": entry.reference_label, "fiscal_year": entry.fiscal_year,
        "number": entry.number, "date": entry.entry_date.isoformat(),
        "date_jalali": to_jalali(entry.entry_date).strftime("%Y-%m-%d"), "kind": entry.kind,
        "description": entry.description, "total": entry.total,
        "reverses": reverses.reference_label if reverses is not None else None,
        "document": {"type": entry.source_type, "id": entry.source_id,
                     "reference": entry.reference},
        "customer": customer,
        "lines": [{"position": line.position, "account_code": line.account.code,
                   "account_name": line.account.name, "role": line.role, "debit": line.debit,
                   "credit": line.credit, "memo": line.memo} for line in entry.lines],
    }


def queue_entry(entry: JournalEntry, connectors=None, *, new: bool = False
                ) -> list[OutboxMessage]:
    """One outbox message per enabled connector for ``entry`` (in the current transaction);
    queuing an entry again changes nothing. ``new``: the entry was just written (nothing of it
    can be queued yet, so that is not looked up)."""
    if connectors is None:
        connectors = db.session.execute(
            select(Connector).where(Connector.enabled.is_(True)).order_by(Connector.id)
        ).scalars().all()
    if not connectors:
        return []
    body = {"type": "journal_entry", "entry": entry_document(entry)}
    messages = []
    for connector in connectors:
        message = outbox.enqueue(
            KIND, {"connector_id": connector.id, "entry_id": entry.id, "body": body},
            aggregate=f"accounting:{entry.source_type}:{entry.source_id}",
            key=f"accounting:{connector.id}:{entry.id}")
        if new or db.session.execute(select(Delivery.id).where(
                Delivery.connector_id == connector.id, Delivery.entry_id == entry.id)
        ).scalar() is None:
            db.session.add(Delivery(connector_id=connector.id, entry_id=entry.id,
                                    message_id=message.id))
        messages.append(message)
    return messages


def on_entry_posted(entry: JournalEntry) -> None:
    """``journal.ENTRY_POSTED``: queue the new entry for every enabled connector."""
    queue_entry(entry, new=True)


# --- the wire ----------------------------------------------------------------------------

def body_bytes(body: dict) -> bytes:
    """The exact bytes POSTed (and signed)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def headers_for(secret: str, key: str, body: bytes) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
            "Idempotency-Key": key, "X-Peyvand-Timestamp": timestamp,
            "X-Peyvand-Signature": sign(secret, timestamp, body)}


class _Connections:
    """Keep-alive HTTP connections for one relay pass (closed when the pass ends)."""

    def __init__(self):
        self.open: dict[tuple, http.client.HTTPConnection] = {}

    def get(self, scheme: str, host: str, port: int | None, timeout: float):
        key = (scheme, host, port)
        connection = self.open.get(key)
        fresh = connection is None
        if fresh:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connection = self.open[key] = cls(host, port, timeout=timeout)
        connection.timeout = timeout
        if connection.sock is None:
            connection.connect()
            # one small request and answer each: no Nagle wait for the peer's delayed ACK
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.sock.settimeout(timeout)
        return connection, fresh

    def drop(self, scheme: str, host: str, port: int | None) -> None:
        connection = self.open.pop((scheme, host, port), None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for connection in self.open.values():
            connection.close()
        self.open.clear()


def post(url: str, body: bytes, headers: dict, timeout: float,
         connections: _Connections | None = None) -> int:
    """POST ``body``; returns the 2xx status or raises ``DeliveryError``.

    With ``connections`` (a relay pass) the connection is kept for the next message; a kept
    connection the server closed meanwhile is retried once on a fresh one (the receiver drops
    a repeat by its idempotency key).
    """
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    own = connections is None
    connections = connections or _Connections()
    try:
        for _try in range(2):
            fresh = True
            try:
                connection, fresh = connections.get(parts.scheme, parts.hostname, parts.port,
                                                    timeout)
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                connections.drop(parts.scheme, parts.hostname, parts.port)
                if fresh:
                    raise DeliveryError(f"{url}: the connection was dropped ({exc})") from exc
                continue
            except TimeoutError as exc:
                connections.drop(parts.scheme, parts.hostname, parts.port)
                raise DeliveryError(f"{url}: no answer within {timeout:g} s") from exc
            except (OSError, http.client.HTTPException) as exc:
                connections.drop(parts.scheme, parts.hostname, parts.port)
                raise DeliveryError(f"{url} could not be reached: {exc}") from exc
            if response.will_close:
                connections.drop(parts.scheme, parts.hostname, parts.port)
            if not 200 <= response.status < 300:
                raise DeliveryError(f"{url} answered {response.status} {response.reason}")
            return response.status
        raise DeliveryError(f"{url}: the connection was dropped twice")
    finally:
        if own:
            connections.close()


def _connector_of(connector_id: int) -> tuple | None:
    """(url, secret, timeout, enabled) of a connector, read once per relay pass."""
    cache = pass_cache()
    known = cache.setdefault("accounting_link.connectors", {}) if cache is not None else {}
    if connector_id not in known:
        connector = db.session.get(Connector, connector_id)
        known[connector_id] = None if connector is None else (
            connector.url, connector.secret, connector.timeout, connector.enabled)
        db.session.rollback()  # no transaction stays open during network I/O
    return known[connector_id]


@outbox.handler(KIND, module="accounting_link")
def deliver(payload: dict, message) -> str:
    """POST one entry to its connector; anything but 2xx raises so the outbox retries."""
    target = _connector_of(payload["connector_id"])
    if target is None:
        return "skipped: the connector was removed"
    url, secret, timeout, enabled = target
    if not enabled:
        raise DeliveryError("the connector is disabled")
    body = body_bytes(payload["body"])
    cache = pass_cache()
    connections = None
    if cache is not None:
        connections = cache.setdefault("accounting_link.http", _Connections())
    status = post(url, body, headers_for(secret, message.key, body), timeout, connections)
    return str(status)


def ping(connector: Connector) -> tuple[bool, str]:
    """POST a signed ``{"type": "ping"}`` now; records and returns (ok, what happened)."""
    body = body_bytes({"type": "ping", "connector": connector.name,
                       "sent_at": utcnow().isoformat()})
    started = time.monotonic()
    try:
        status = post(connector.url, body,
                      headers_for(connector.secret, f"ping:{secrets.token_hex(8)}", body),
                      connector.timeout)
        ok = True
        result = _("Answered %(status)s in %(ms)s ms.", status=status,
                   ms=int((time.monotonic() - started) * 1000))
    except DeliveryError as exc:
        ok, result = False, str(exc)
    connector.last_ping_at = utcnow()
    connector.last_ping_result = result[:300]
    return ok, result


# --- delivery state ----------------------------------------------------------------------

def states(status: str | None = None, connector_id: int | None = None):
    """A select of (Delivery, OutboxMessage, JournalEntry), newest first."""
    stmt = (select(Delivery, OutboxMessage, JournalEntry)
            .join(OutboxMessage, OutboxMessage.id == Delivery.message_id)
            .join(JournalEntry, JournalEntry.id == Delivery.entry_id)
            .order_by(Delivery.id.desc()))
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if connector_id:
        stmt = stmt.where(Delivery.connector_id == connector_id)
    return stmt


def state_dict(delivery: Delivery, message: OutboxMessage, entry: JournalEntry) -> dict:
    """The delivery state of one entry to one connector (for the API and the pages)."""
    return {"id": message.id, "entry_id": entry.id, "entry_reference": entry.reference_label,
            "kind": entry.kind, "document": f"{entry.source_type}:{entry.source_id}",
            "connector_id": delivery.connector_id, "connector": delivery.connector.name,
            "status": message.status, "attempts": message.attempts,
            "last_error": message.last_error, "created_at": message.created_at,
            "next_attempt_at": message.next_attempt_at, "delivered_at": message.delivered_at}


def entry_states(entry_ids) -> dict[int, list[dict]]:
    """The delivery states of some entries, per entry id (for the journal pages)."""
    ids = list(entry_ids)
    found: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        for row in db.session.execute(states().where(Delivery.entry_id.in_(ids))).all():
            found[row[2].id].append(state_dict(*row))
    return found


def retry(message_id: int) -> bool:
    """Put one of this module's messages back in the queue (caller commits)."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.kind != KIND:
        return False
    return outbox.retry(message_id)


def retry_all_dead() -> int:
    """Put every dead entry delivery back in the queue (caller commits); returns how many."""
    dead = db.session.execute(select(OutboxMessage.id).where(
        OutboxMessage.kind == KIND, OutboxMessage.status == "dead")).scalars().all()
    return sum(1 for message_id in dead if outbox.retry(message_id))


def health(now: datetime | None = None) -> dict:
    """Pending, delivered today (Tehran), dead, and the age of the oldest pending delivery."""
    now = now or utcnow()
    mine = OutboxMessage.kind == KIND
    counts = dict(db.session.execute(
        select(OutboxMessage.status, func.count()).where(mine).group_by(OutboxMessage.status)
    ).all())
    local_now = to_tehran(now)
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    today = db.session.execute(select(func.count()).where(
        mine, OutboxMessage.status == "delivered", OutboxMessage.delivered_at >= midnight)
    ).scalar_one()
    oldest = db.session.execute(select(func.min(OutboxMessage.created_at)).where(
        mine, OutboxMessage.status == "pending")).scalar()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return {"pending": counts.get("pending", 0), "dead": counts.get("dead", 0),
            "delivered_today": today, "delivered": counts.get("delivered", 0),
            "oldest_pending": oldest,
            "oldest_age": (now - oldest) if oldest is not None else timedelta(0),
            "local_day": local_date(now)}


def register(app) -> None:
    from modules.accounting_link import journal

    if on_entry_posted not in journal.ENTRY_POSTED:
        journal.ENTRY_POSTED.append(on_entry_posted)
