"""Read the support mailbox over IMAP: new mails (by UID) into ``mail.process``, once each.

The position (UIDVALIDITY and the last UID read) is a deployment setting, so each poll asks only
for newer mails; processed mails are flagged ``\\Seen``. Each mail is committed on its own with
the new position: a crash or a malformed mail never loses or repeats the others.
"""

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

import click
from flask.cli import with_appcontext
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from core.database import get_setting, lock, utcnow
from core.extensions import db
from core.jobs import job
from core.models import Setting
from modules.service.mailbox import PREFIX, MailboxSettings, mailbox_settings

log = logging.getLogger(__name__)
STATE_KEY = PREFIX + "state"
STATUS_KEY = PREFIX + "status"
LOCK = "service.mailbox"
TIMEOUT = 30
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass
class PollResult:
    """What one poll did: outcomes counted, or why the mailbox could not be read."""

    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1


def connect(settings: MailboxSettings) -> imaplib.IMAP4:
    """A signed-in IMAP client for the mailbox."""
    if settings.security == "ssl":
        client = imaplib.IMAP4_SSL(settings.host, settings.port, timeout=TIMEOUT,
                                   ssl_context=ssl.create_default_context())
    else:
        client = imaplib.IMAP4(settings.host, settings.port, timeout=TIMEOUT)
        if settings.security == "starttls":
            client.starttls(ssl_context=ssl.create_default_context())
    client.login(settings.username, settings.password)
    return client


def _literal(data) -> bytes | None:
    for item in data or ():
        if isinstance(item, tuple) and len(item) > 1:
            return item[1]
    return None


def _size(client: imaplib.IMAP4, uid: int) -> int:
    _status, data = client.uid("FETCH", str(uid), "(RFC822.SIZE)")
    for item in data or ():
        text = item[0] if isinstance(item, tuple) else item
        match = re.search(rb"RFC822\.SIZE (\d+)", text or b"")
        if match:
            return int(match.group(1))
    return 0


def _validity(client: imaplib.IMAP4) -> int:
    _name, data = client.response("UIDVALIDITY")
    return int(data[0]) if data and data[0] else 0


def _fetch(client: imaplib.IMAP4, uid: int, max_bytes: int) -> tuple[bytes | None, bool]:
    """(the mail, or only its header when it is larger than ``max_bytes``; too large?)."""
    if _size(client, uid) > max_bytes:
        _found, data = client.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])")
        return _literal(data) or b"", True
    _found, data = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
    return _literal(data), False


def _handle(raw: bytes | None, too_large: bool, max_bytes: int) -> str:
    """Process one fetched mail in the current transaction; returns its outcome."""
    from modules.service import mail
    from modules.service.mail_parse import parse

    if raw is None:
        return "gone"  # expunged meanwhile
    if too_large:
        header = parse(raw)
        log.warning("mail %s from %s is larger than %d bytes: not read", header.message_id,
                    header.from_address, max_bytes)
        if mail.seen(header.message_id):
            return "duplicate"
        mail.record(header.message_id, header.from_address, "too_large")
        return "too_large"
    try:
        with db.session.begin_nested():
            row = mail.process(raw)
    except IntegrityError:
        return "duplicate"  # another poller took it at the same moment
    except Exception:
        log.exception("a mail from the support mailbox could not be processed")
        parsed = parse(raw)
        if not mail.seen(parsed.message_id):
            mail.record(parsed.message_id, parsed.from_address, "error")
        return "error"
    return "duplicate" if row is None else row.outcome


def poll(limit: int = 200) -> PollResult:
    """Read new mails from the support mailbox (at most ``limit`` this time)."""
    from flask import current_app

    settings = mailbox_settings()
    result = PollResult()
    if not settings.configured:
        return result
    max_bytes = int(current_app.config.get("SERVICE_MAIL_MAX_BYTES", DEFAULT_MAX_BYTES))
    try:
        client = connect(settings)
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        result.error = str(exc) or exc.__class__.__name__
        _status(result)
        return result
    try:
        status, answer = client.select(_quoted(settings.folder))
        if status != "OK":
            raise imaplib.IMAP4.error(f"folder {settings.folder}: {answer}")
        validity = _validity(client)
        state = get_setting(STATE_KEY) or {}
        last = int(state.get("last", 0)) if state.get("validity") == validity else 0
        _found, data = client.uid("SEARCH", None, "UID", f"{last + 1}:*")
        uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last)
        db.session.commit()  # end the read: each mail's transaction starts with the lock
        for uid in uids[:limit]:
            raw, too_large = _fetch(client, uid, max_bytes)
            lock(LOCK)  # pollers running at once take the mails in turn
            result.add(_handle(raw, too_large, max_bytes))
            _put(STATE_KEY, {"validity": validity, "last": uid})
            db.session.commit()
            client.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
    except (OSError, imaplib.IMAP4.error, ssl.SSLError) as exc:
        db.session.rollback()
        result.error = str(exc) or exc.__class__.__name__
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    _status(result)
    return result


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _put(key: str, value) -> None:
    """Store the mailbox position or status (bookkeeping: no audit entry every minute)."""
    table = Setting.__table__
    done = db.session.execute(update(table).where(table.c.key == key).values(value=value))
    if not done.rowcount:
        db.session.execute(insert(table).values(key=key, value=value))


def _status(result: PollResult) -> None:
    db.session.commit()
    lock(LOCK)
    _put(STATUS_KEY, {"at": utcnow().isoformat(), "error": result.error,
                             "counts": result.counts})
    db.session.commit()


@job(module="service")
def poll_job() -> dict:
    """The periodic job: read the support mailbox."""
    result = poll()
    if result.error:
        log.warning("support mailbox: %s", result.error)
    return {"counts": result.counts, "error": result.error}


def register_cli() -> None:
    """``flask crm service poll-mail`` (the ``service`` group is shared with other parts)."""
    from flask.cli import AppGroup

    from core.cli import crm

    group = crm.commands.get("service")
    if group is None:
        group = AppGroup("service", help="After-sales service.")
        crm.add_command(group)
    if "poll-mail" not in group.commands:
        group.add_command(poll_mail_command)


@click.command("poll-mail")
@with_appcontext
@click.option("--limit", default=200, show_default=True, help="Read at most this many mails.")
def poll_mail_command(limit: int) -> None:
    """Read the support mailbox once (what the periodic job does)."""
    settings = mailbox_settings()
    if not settings.configured:
        raise click.ClickException("the support mailbox is not set up (Service → Mailbox)")
    result = poll(limit=limit)
    if result.error:
        raise click.ClickException(f"the mailbox could not be read: {result.error}")
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(result.counts.items())) or "no new mail"
    click.echo(f"Mailbox {settings.username}@{settings.host}: {summary}")
