"""Read one RFC 822 mail from the support mailbox: headers, text body, attachments, auto-reply.

``parse(raw)`` never raises on a malformed mail: missing parts come back empty, unknown
charsets are read as windows-1256 (common in Iranian mail) and then UTF-8 with replacement.
"""

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from email.utils import getaddresses, parseaddr

from core.i18n import to_latin_digits

REFERENCE = re.compile(r"\[\s*T-([0-9۰-۹٠-٩]{1,9})\s*\]", re.IGNORECASE)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# a line that starts the quoted history in the common mail clients (en and fa)
REPLY_MARKERS = (
    re.compile(r"^\s*On .{3,200}(wrote|writes):\s*$", re.IGNORECASE),
    re.compile(r"^\s*(در|روز).{3,200}(نوشت|نوشته)\s*[:：]?\s*$"),
    re.compile(r"^\s*-{2,}\s*(Original Message|پیام اصلی)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*(From|از)\s*:\s*.+$", re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
)
AUTO_SENDERS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply",
                "donotreply")
BODY_LIMIT = 60_000
ARABIC_CODEPAGES = ("windows-1256", "cp1256", "iso-8859-6")
# windows-1256 has only the Arabic yeh and kaf; Persian text written in it means ی and ک
PERSIAN_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0643": "\u06a9", "\u0649": "\u06cc"})


@dataclass
class ParsedMail:
    """The parts of an inbound mail the service module uses."""

    message_id: str
    subject: str
    from_name: str
    from_address: str
    to: list[str]
    in_reply_to: list[str]
    references: list[str]
    text: str
    auto: bool
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, the nearest first."""
        seen: list[str] = []
        for item in self.in_reply_to + list(reversed(self.references)):
            if item not in seen:
                seen.append(item)
        return seen


def decode_words(value) -> str:
    """A header with RFC 2047 encoded words (``=?utf-8?b?...?=``) as plain text."""
    if value is None:
        return ""
    try:
        parts = decode_header(str(value))
        text = str(make_header(parts))
        if any((charset or "").lower() in ARABIC_CODEPAGES for _b, charset in parts):
            text = text.translate(PERSIAN_LETTERS)
    except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
        text = str(value)
    return " ".join(text.split())


def ticket_reference(subject: str) -> int | None:
    """The ticket id in a subject carrying ``[T-000123]`` (any digits), else None."""
    match = REFERENCE.search(subject or "")
    return int(to_latin_digits(match.group(1))) if match else None


def message_ids(value) -> list[str]:
    """The ``<id@host>`` items of a Message-ID, In-Reply-To or References header."""
    return MESSAGE_ID.findall(decode_words(value))[:50]


def _charset_text(payload: bytes, charset: str | None) -> str:
    for name in (charset, "utf-8", "windows-1256"):
        if not name:
            continue
        try:
            text = payload.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
        return text.translate(PERSIAN_LETTERS) if name.lower() in ARABIC_CODEPAGES else text
    return payload.decode("utf-8", errors="replace")


def part_text(part: EmailMessage) -> str:
    """The decoded text of a text/* part (transfer encoding and charset undone)."""
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = str(part.get_payload() or "").encode("utf-8", errors="replace")
    return _charset_text(payload, part.get_content_charset())


def html_to_text(markup: str) -> str:
    """Readable text from HTML: scripts and styles dropped, blocks become lines."""
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    text = re.sub(r"(?is)<blockquote\b.*?</blockquote\s*>", "\n", text)  # quoted history
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|li|tr|h[1-6])\s*>", "\n", text)
    text = re.sub(r"(?s)<[^>]*>", "", text)
    text = html.unescape(text).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_quoted(text: str) -> str:
    """The new text of a reply: everything from the reply marker or ``>`` lines on dropped."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if any(marker.match(line) for marker in REPLY_MARKERS) and any(k.strip() for k in kept):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    result = "\n".join(kept).strip()
    if result.endswith("\n--") or result == "--":
        result = result[:-2].rstrip()
    return result or text.strip()


def _walk(message: EmailMessage):
    """(plain texts, html texts, attachments) of the message."""
    plain, markup, files = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        filename = decode_words(part.get_filename()) if part.get_filename() else ""
        ctype = part.get_content_type()
        if disposition == "attachment" or (filename and not ctype.startswith("text/")):
            data = part.get_payload(decode=True) or b""
            files.append((filename or "attachment", data, ctype))
        elif ctype == "text/plain":
            plain.append(part_text(part))
        elif ctype == "text/html":
            markup.append(part_text(part))
    return plain, markup, files


def is_auto(message: EmailMessage, sender: str) -> bool:
    """An automatic mail (auto-reply, bounce, bulk): recorded, never answered or ticketed."""
    auto_submitted = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    local = sender.partition("@")[0].lower()
    return (auto_submitted != "no" or precedence in ("bulk", "junk", "list", "auto_reply")
            or bool(message.get("X-Autoreply") or message.get("X-Autorespond"))
            or bool(message.get("List-Id")) or local in AUTO_SENDERS
            or (message.get_content_type() == "multipart/report"))


def parse(raw: bytes) -> ParsedMail:
    """The parsed mail; a missing Message-ID becomes one derived from the content."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, address = parseaddr(decode_words(message.get("From")))
    ids = message_ids(message.get("Message-ID"))
    message_id = ids[0] if ids else f"<sha256-{hashlib.sha256(raw).hexdigest()}@peyvand.invalid>"
    plain, markup, files = _walk(message)
    if any(p.strip() for p in plain):
        body = "\n\n".join(p.strip() for p in plain if p.strip())
    else:
        body = "\n\n".join(html_to_text(m) for m in markup)
    body = strip_quoted(body.replace("\x00", ""))[:BODY_LIMIT]
    to = [a.lower() for _n, a in getaddresses(
        [decode_words(v) for v in message.get_all("To", []) + message.get_all("Cc", [])]) if a]
    return ParsedMail(
        message_id=message_id[:250], subject=decode_words(message.get("Subject"))[:250],
        from_name=name.strip().strip('"')[:200], from_address=address.strip().lower()[:200],
        to=to, in_reply_to=message_ids(message.get("In-Reply-To")),
        references=message_ids(message.get("References")), text=body,
        auto=is_auto(message, address), attachments=files)
