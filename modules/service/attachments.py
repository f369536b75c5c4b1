"""Ticket attachments: type checked by content, stored by sha256, served with safe headers.

    attachment = save_attachment(ticket, "invoice.pdf", data, message=message)
    return download_response(attachment)
"""

import hashlib
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from modules.service.models.tickets import Attachment, Message, Ticket
from modules.service.tickets import TicketError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# kind -> (content type, extensions that may carry it)
KINDS = {
    "pdf": ("application/pdf", ("pdf",)),
    "png": ("image/png", ("png",)),
    "jpeg": ("image/jpeg", ("jpg", "jpeg", "jpe")),
    "gif": ("image/gif", ("gif",)),
    "webp": ("image/webp", ("webp",)),
    "text": ("text/plain; charset=utf-8", ("txt", "log", "csv")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             ("docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation",
             ("pptx",)),
    "zip": ("application/zip", ("zip",)),
}
KIND_NAMES = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WebP",
              "text": "text", "docx": "Word", "xlsx": "Excel", "pptx": "PowerPoint",
              "zip": "ZIP"}
_OFFICE = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))


def detect_kind(data: bytes) -> str | None:
    """What the bytes really are (magic numbers, then a look inside zips); None: not accepted."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix, kind in _OFFICE:
                if any(n.startswith(prefix) for n in names):
                    return kind
        return "zip"
    if b"\x00" in data[:8192]:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text"


def safe_filename(name: str) -> str:
    """The last path part without control characters, quotes or slashes; Persian kept."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").split("/")[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" or ch == "\u200c")
    name = re.sub(r'["<>:|?*;]', "_", name).strip(" .")
    return name[:200] or "file"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check_file(filename: str, data: bytes) -> str:
    """The kind of the file, or TicketError with a message the user can act on."""
    limit = current_app.config.get("SERVICE_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES)
    if not data:
        raise TicketError(_("The file %(name)s is empty.", name=filename))
    if len(data) > limit:
        raise TicketError(_("The file %(name)s is larger than %(mb)s MB.", name=filename,
                            mb=round(limit / 1024 / 1024, 1)))
    kind = detect_kind(data)
    if kind is None:
        raise TicketError(_("Files like %(name)s are not accepted. Send a PDF, an image "
                            "(PNG, JPEG, GIF, WebP), text, Word, Excel or ZIP.", name=filename))
    ext = _extension(filename)
    if ext not in KINDS[kind][1]:
        raise TicketError(_("The file %(name)s is named .%(ext)s but its content is %(kind)s; "
                            "it was refused. Rename it to its real type and send it again.",
                            name=filename, ext=ext or "?", kind=KIND_NAMES[kind]))
    return kind


def folder() -> Path:
    """Where attachment files live: ``<upload dir>/service``."""
    return Path(current_app.config["CRM_UPLOAD_DIR"]) / "service"


def path_for(sha256: str) -> Path:
    """The file of a content hash (two levels of sub-folders)."""
    return folder() / sha256[:2] / sha256[2:4] / sha256


def _store(data: bytes, digest: str) -> None:
    target = path_for(digest)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, target)


def save_attachment(ticket: Ticket, filename: str, data: bytes,
                    message: Message | None = None) -> Attachment:
    """Check and store one file on ``ticket`` (refused with TicketError when it lies)."""
    name = safe_filename(filename)
    kind = check_file(name, data)
    digest = hashlib.sha256(data).hexdigest()
    _store(data, digest)
    attachment = Attachment(ticket_id=ticket.id, message=message, filename=name,
                            content_type=KINDS[kind][0], size=len(data), sha256=digest)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode() or "file"
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]", "_", ascii_name).strip() or "file"
    if not re.search(r"[A-Za-z0-9]", ascii_name.rsplit(".", 1)[0]):
        ascii_name = "file" + ("." + _extension(name) if _extension(name) else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(attachment: Attachment) -> Response:
    """The file as a download: detected type, safe name, ``nosniff``, no inline scripts."""
    path = path_for(attachment.sha256)
    if not path.exists():
        from flask import abort

        abort(404)
    response = Response(path.read_bytes(), mimetype=attachment.content_type.split(";")[0])
    response.headers["Content-Type"] = attachment.content_type
    response.headers["Content-Disposition"] = content_disposition(attachment.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def forget_customer_files(customer_id: int) -> int:
    """Anonymise: drop the customer's attachments and the files nobody else uses."""
    rows = list(db.session.execute(select(Attachment).join(
        Ticket, Ticket.id == Attachment.ticket_id).where(Ticket.customer_id == customer_id))
        .scalars())
    hashes = {a.sha256 for a in rows}
    for attachment in rows:
        db.session.delete(attachment)
    db.session.flush()
    for digest in hashes:
        used = db.session.execute(select(Attachment.id).where(Attachment.sha256 == digest)
                                  .limit(1)).first()
        if used is None:
            path_for(digest).unlink(missing_ok=True)
    return len(rows)
