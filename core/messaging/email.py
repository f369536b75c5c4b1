"""Email: build the MIME message (text + RTL-safe HTML) and deliver it over SMTP."""

import base64
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from core.database import get_setting

RTL_LANGUAGES = {"fa", "ar", "he", "ur"}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: deployment settings ``smtp.*``, else app config ``MAIL_*``."""

    host: str
    port: int
    username: str
    password: str
    security: str  # "starttls", "ssl" or "none"
    sender: str
    timeout: float = 30


def smtp_settings() -> SmtpSettings:
    """The SMTP settings in force now."""
    config = current_app.config

    def pick(key, config_key, default=None):
        value = get_setting(f"smtp.{key}")
        return value if value not in (None, "") else config.get(config_key, default)

    tls = pick("tls", "MAIL_USE_TLS", None)
    if config.get("MAIL_USE_SSL") and get_setting("smtp.tls") in (None, ""):
        tls = "ssl"
    if isinstance(tls, str):
        tls = tls.strip().lower()
        security = {"ssl": "ssl", "tls": "starttls", "starttls": "starttls", "true": "starttls",
                    "1": "starttls", "yes": "starttls"}.get(tls, "none")
    else:
        security = "starttls" if tls else "none"
    port = int(pick("port", "MAIL_PORT", 0) or (465 if security == "ssl" else 25))
    return SmtpSettings(
        host=pick("host", "MAIL_SERVER", "") or "",
        port=port,
        username=pick("username", "MAIL_USERNAME", "") or "",
        password=pick("password", "MAIL_PASSWORD", "") or "",
        security=security,
        sender=pick("from", "MAIL_FROM", "") or "",
        timeout=float(config.get("MAIL_TIMEOUT", 30)),
    )


def sender_address() -> str:
    """The From address alone (one setting read, for Message-IDs at queue time)."""
    return get_setting("smtp.from") or current_app.config.get("MAIL_FROM", "") or ""


def sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "localhost"


def render_html(subject: str, *, text: str, html: str | None, language: str) -> str:
    """The email layout around ``html`` (or around ``text`` turned into paragraphs)."""
    if html is None:
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        html = Markup("").join(
            Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in p.split("\n")))
            for p in paragraphs
        )
    with force_locale(language):
        return render_template(
            "messaging/email.html", subject=subject, body=Markup(html), lang=language,
            direction="rtl" if language in RTL_LANGUAGES else "ltr",
            company=get_setting("company.legal_name", ""),
        )


def encode_attachments(attachments) -> list[dict]:
    """``(filename, bytes, mimetype)`` triples as JSON-safe dicts for the outbox payload."""
    encoded = []
    for item in attachments:
        filename, data, mimetype = item
        if isinstance(data, str):
            data = data.encode("utf-8")
        encoded.append({"filename": filename,
                        "content_type": mimetype or "application/octet-stream",
                        "data": base64.b64encode(data).decode("ascii")})
    return encoded


def build_message(payload: dict, sender: str) -> EmailMessage:
    """The MIME message: multipart/alternative text + HTML, attachments, given headers."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(payload["to"])
    msg["Subject"] = payload["subject"]
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = payload["message_id"]
    if payload.get("reply_to"):
        msg["Reply-To"] = payload["reply_to"]
    for name, value in (payload.get("headers") or {}).items():
        if name.lower() in {"from", "to", "subject", "date", "message-id"}:
            raise ValueError(f"header {name} is set by the mailer, not by callers")
        msg[name] = value
    msg.set_content(payload["text"])
    if payload.get("html"):
        msg.add_alternative(payload["html"], subtype="html")
    for item in payload.get("attachments") or ():
        maintype, _, subtype = item["content_type"].partition("/")
        msg.add_attachment(base64.b64decode(item["data"]), maintype=maintype,
                           subtype=subtype or "octet-stream", filename=item["filename"])
    return msg


class _Connection:
    """An SMTP connection kept open for one relay pass (see ``core.outbox.relay.pass_cache``)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp = _connect(settings)

    def close(self) -> None:
        try:
            self.smtp.quit()
        except (smtplib.SMTPException, OSError):
            self.smtp.close()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def deliver_smtp(payload: dict) -> dict:
    """Send over SMTP; returns the recipients refused (smtplib raises when all are refused).

    Any failure raises, so the relay retries the whole message later. Inside a relay pass the
    settings are read once and one connection carries every message of the pass; a connection
    the server dropped between two messages is opened again once.
    """
    from core.outbox.relay import pass_cache

    cache = pass_cache()
    if cache is None:
        settings = smtp_settings()
    else:
        settings = cache.get("smtp.settings") or cache.setdefault("smtp.settings",
                                                                  smtp_settings())
    if not settings.host:
        raise RuntimeError("email is not configured: set the SMTP host in the deployment "
                           "settings (smtp.host) or MAIL_SERVER")
    if not settings.sender:
        raise RuntimeError("email is not configured: set the sender address (smtp.from)")
    message = build_message(payload, settings.sender)
    if cache is None:
        with _connect(settings) as smtp:
            return smtp.send_message(message)
    connection = cache.get("smtp.connection")
    reused = connection is not None
    if connection is None:
        connection = cache["smtp.connection"] = _Connection(settings)
    try:
        return connection.smtp.send_message(message)
    except smtplib.SMTPServerDisconnected:
        cache.pop("smtp.connection", None)
        connection.smtp.close()
        if not reused:
            raise
        connection = cache["smtp.connection"] = _Connection(settings)
        return connection.smtp.send_message(message)
    except BaseException:
        # the server's state is unknown after a failure: the next message starts afresh
        cache.pop("smtp.connection", None)
        connection.close()
        raise
