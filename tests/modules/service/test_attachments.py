"""Attachments: type by content (a lying extension is refused), size limit, storage by hash,
safe download headers, and only for users who can see the ticket."""

import io
import zipfile

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.service.ticket_helpers import make_customer, make_ticket, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en", "SERVICE_ATTACHMENT_MAX_BYTES": 2000}


@pytest.fixture
def desk(app, make_user):
    make_user("ali@example.ir", role="agent", seats=["service"])
    make_user("sara@example.ir", role="agent", seats=["service"])
    customer = make_customer(app, "ali@example.ir", last_name="Rahimi")
    return {"ticket": make_ticket(app, customer, "ali@example.ir", subject="Broken", body="x")}


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def test_detects_kinds_by_content(app):
    from modules.service.attachments import detect_kind

    assert detect_kind(PNG) == "png"
    assert detect_kind(PDF) == "pdf"
    assert detect_kind(b"\xff\xd8\xff\xe0" + b"0" * 10) == "jpeg"
    assert detect_kind(b"GIF89a....") == "gif"
    assert detect_kind(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert detect_kind("سلام، فاکتور".encode()) == "text"
    assert detect_kind(_docx()) == "docx"
    assert detect_kind(b"MZ\x90\x00\x03\x00\x00\x00") is None  # a Windows program


def test_lying_extension_and_size_are_refused(app, desk):
    from modules.service.attachments import check_file
    from modules.service.tickets import TicketError

    with app.test_request_context():
        with pytest.raises(TicketError, match=r"named \.png but its content is PDF"):
            check_file("photo.png", PDF)
        with pytest.raises(TicketError, match="not accepted"):
            check_file("setup.pdf", b"MZ\x90\x00" + b"\x00" * 20)
        with pytest.raises(TicketError, match="larger than"):
            check_file("big.txt", b"a" * 3000)
        assert check_file("report.docx", _docx()) == "docx"


def test_upload_with_lying_extension_refused_in_the_reply(app, desk):
    from modules.service.models.tickets import Attachment, Message

    client = sign_in(app, "ali@example.ir")
    url = f"/service/tickets/{desk['ticket']}"
    token = csrf_from(client.get(url))
    response = client.post(url + "/reply", data={
        "csrf_token": token, "kind": "public", "body": "See the file",
        "files": [(io.BytesIO(PDF), "invoice.jpg")]},
        content_type="multipart/form-data", follow_redirects=True)
    assert b"named .jpg but its content is PDF" in response.data
    with app.app_context():
        assert db.session.query(Attachment).count() == 0
        assert db.session.query(Message).count() == 1  # nothing half-saved


def test_download_headers_and_scope(app, desk):
    from modules.service.attachments import path_for
    from modules.service.models.tickets import Attachment

    client = sign_in(app, "ali@example.ir")
    url = f"/service/tickets/{desk['ticket']}"
    token = csrf_from(client.get(url))
    client.post(url + "/reply", data={
        "csrf_token": token, "kind": "internal", "body": "scan",
        "files": [(io.BytesIO(PNG), 'عکس خرابی;1.png')]},
        content_type="multipart/form-data")
    with app.app_context():
        attachment = db.session.query(Attachment).one()
        assert attachment.content_type == "image/png" and attachment.size == len(PNG)
        assert path_for(attachment.sha256).read_bytes() == PNG
        aid = attachment.id
    assert "عکس" in client.get(url).get_data(as_text=True)
    response = client.get(f"{url}/files/{aid}")
    assert response.data == PNG
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "image/png"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"")
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.count('"') == 2 and ";1" not in disposition
    assert "filename*=UTF-8''%D8%B9%DA%A9%D8%B3" in disposition
    disposition.encode("latin-1")  # a header browsers can read
    other = sign_in(app, "sara@example.ir")
    assert other.get(f"{url}/files/{aid}").status_code == 404


def test_new_ticket_with_file(app, desk):
    from core.customers.models import Customer
    from modules.service.models.tickets import Ticket

    client = sign_in(app, "ali@example.ir")
    with app.app_context():
        customer_id = db.session.query(Customer.id).scalar()
    page = client.get(f"/service/tickets/new?customer={customer_id}")
    response = client.post("/service/tickets/new", data={
        "csrf_token": csrf_from(page), "customer_id": customer_id, "subject": "With a file",
        "body": "attached", "type": "request", "priority": "normal", "channel": "phone",
        "category_id": 0, "files": [(io.BytesIO(b"plain words"), "notes.txt")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.query(Ticket).filter_by(subject="With a file").one()
        files = [a for m in ticket.messages for a in m.attachments]
        assert [(a.filename, a.content_type) for a in files] == [
            ("notes.txt", "text/plain; charset=utf-8")]


def test_safe_names(app):
    from modules.service.attachments import content_disposition, safe_filename

    assert safe_filename('..\\..\\evil/"a"\r\n.png') == "_a_.png"
    assert safe_filename("گزارش\u200cها.pdf") == "گزارش\u200cها.pdf"
    assert safe_filename("") == "file"
    header = content_disposition("فاکتور.pdf")
    assert header.startswith('attachment; filename="file.pdf"; filename*=UTF-8\'\'%D9%81')
