"""Email and SMS behind one interface; every send goes through the outbox.

``send_email(...)`` and ``send_sms(...)`` check the opt-out list, write a delivery log entry
(``core_message_log``: queued → sent → delivered, or failed / suppressed) and add an outbox
message of kind "email" or "sms" to the current transaction (the caller commits). The outbox
relay delivers it with retries: email over SMTP with the deployment's ``smtp.*`` settings,
SMS through the gateway in ``sms.provider``/``sms.config`` (see ``core.messaging.sms``).
A send to an opted-out address is not queued; it is logged as "suppressed" and returns None.
"""

from collections.abc import Iterable, Sequence
from email.utils import make_msgid

from flask import Flask, has_request_context
from flask_babel import gettext as _

from core import outbox
from core.database import get_setting
from core.extensions import db
from core.messaging.addresses import canonical, canonical_email, is_opted_out, opt_in, opt_out
from core.messaging.email import (
    deliver_smtp,
    encode_attachments,
    render_html,
    sender_address,
    sender_domain,
)
from core.messaging.models import CHANNELS, LOG_STATUSES, MessageLog, OptOut
from core.messaging.sms import (
    GenericHttpProvider,
    KavenegarProvider,
    SmsError,
    SmsProvider,
    current_provider,
    register_provider,
)
from core.outbox import OutboxMessage

__all__ = [
    "CHANNELS", "LOG_STATUSES", "GenericHttpProvider", "KavenegarProvider", "MessageLog",
    "OptOut", "SmsError", "SmsProvider", "canonical", "current_provider", "is_opted_out",
    "opt_in", "opt_out", "register_provider", "send_email", "send_sms",
]


def _language(language: str | None) -> str:
    if language:
        return language
    if has_request_context():
        from core.i18n import current_locale

        return current_locale()
    return get_setting("display.language") or "fa"


def _preview(text: str, secret: bool = False) -> str:
    if secret:
        return _("(hidden: this message carries a one-time code)")
    return " ".join(text.split())[:200]


def send_email(to: str | Sequence[str], subject: str, *, text: str, html: str | None = None,
               attachments: Iterable = (), reply_to: str | None = None,
               headers: dict | None = None, customer_key: str | None = None,
               language: str | None = None, key: str | None = None,
               secret: bool = False) -> OutboxMessage | None:
    """Queue an email (text, plus HTML in the RTL-safe layout); None when all opted out.

    ``attachments`` are ``(filename, bytes, mimetype)``; ``headers`` pass through (e.g.
    List-Unsubscribe); ``key`` makes the send idempotent (the same key sends once);
    ``secret`` keeps the text (a sign-in code) out of the delivery log staff can read.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    allowed = []
    for address in recipients:
        canonical_email(address)  # refuse a malformed address now, not in the relay
        if is_opted_out("email", address):
            _log("email", address, subject=subject, preview=_preview(text, secret),
                 status="suppressed",
                 customer_key=customer_key, error="opted out")
        else:
            allowed.append(address)
    if not allowed:
        return None
    payload = {
        "to": allowed, "subject": subject, "text": text,
        "html": render_html(subject, text=text, html=html, language=_language(language)),
        "reply_to": reply_to, "headers": dict(headers or {}),
        "message_id": make_msgid(domain=sender_domain(sender_address())),
        "attachments": encode_attachments(attachments),
    }
    entry = _log("email", ", ".join(allowed), subject=subject, preview=_preview(text, secret),
                 status="queued", customer_key=customer_key)
    payload["log_id"] = entry.id
    message = outbox.enqueue("email", payload, key=key)
    entry.outbox_id = message.id
    return message


def send_sms(to: str, text: str, *, customer_key: str | None = None,
             key: str | None = None, secret: bool = False) -> OutboxMessage | None:
    """Queue an SMS to a mobile number (any common spelling); None when it opted out.

    ``secret`` keeps the text (a sign-in code) out of the delivery log staff can read.
    """
    number = canonical("sms", to)
    if is_opted_out("sms", number):
        _log("sms", number, preview=_preview(text, secret), status="suppressed",
             customer_key=customer_key, error="opted out")
        return None
    entry = _log("sms", number, preview=_preview(text, secret), status="queued",
                 customer_key=customer_key)
    message = outbox.enqueue("sms", {"to": number, "text": text, "log_id": entry.id}, key=key)
    entry.outbox_id = message.id
    return message


def _log(channel: str, to: str, *, preview: str, status: str, customer_key: str | None,
         subject: str | None = None, error: str | None = None) -> MessageLog:
    entry = MessageLog(channel=channel, to=to[:1000], subject=(subject or None) and subject[:300],
                       preview=preview, status=status, customer_key=customer_key, error=error)
    db.session.add(entry)
    db.session.flush()
    return entry


def _update_log(payload: dict, **values) -> None:
    entry = db.session.get(MessageLog, payload.get("log_id") or 0)
    if entry is not None:
        for name, value in values.items():
            setattr(entry, name, value)


def _on_failure(payload: dict, message: OutboxMessage, error: str, dead: bool) -> None:
    _update_log(payload, status="failed" if dead else "queued", error=error)


def _email_sent(payload: dict, message: OutboxMessage, refused: dict) -> None:
    error = f"refused: {', '.join(sorted(refused))}" if refused else None
    _update_log(payload, status="sent", provider_id=payload["message_id"], error=error)


def _sms_sent(payload: dict, message: OutboxMessage, provider_id: str) -> None:
    _update_log(payload, status="sent", provider_id=provider_id or None, error=None)


@outbox.handler("email", on_success=_email_sent, on_failure=_on_failure)
def deliver_email(payload: dict, message: OutboxMessage) -> dict:
    """Outbox handler: send the email over SMTP; returns the refused recipients."""
    return deliver_smtp(payload)


@outbox.handler("sms", on_success=_sms_sent, on_failure=_on_failure)
def deliver_sms(payload: dict, message: OutboxMessage) -> str:
    """Outbox handler: send the SMS through the configured gateway; returns its message id."""
    return current_provider().send(payload["to"], payload["text"])


def init_app(app: Flask) -> None:
    from core.messaging import timeline, views

    app.config.setdefault("SMS_PROVIDER", None)
    app.config.setdefault("SMS_CONFIG", {})
    views.init_app(app)
    timeline.init_app(app)
