"""Uploads are checked by their content, not by their name: a file whose extension lies is refused
with a message, nothing is stored, and no upload endpoint answers with a server error."""

import io
import zipfile
from dataclasses import dataclass, field

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core.extensions import db
from tests.conftest import csrf_from

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HTML = b"<html><script>alert(document.cookie)</script></html>"


def not_a_workbook() -> bytes:
    """A zip (the magic number of .xlsx) that holds no workbook."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.sh", "rm -rf /")
    return buffer.getvalue()


@dataclass(frozen=True)
class Upload:
    name: str
    form_page: str  # GET: the page with the form (for the CSRF token)
    post_to: str
    field: str
    filename: str
    content: bytes
    message: str  # what the refusal says (English)
    data: dict = field(default_factory=dict)
    job: bool = False  # checked by the import job (run inline here): follow to the job's page


UPLOADS = [
    Upload("ticket attachment: a PNG named .pdf", "/service/tickets/new", "/service/tickets/new",
           "files", "invoice.pdf", PNG, "is named .pdf but its content is PNG",
           {"subject": "Printer", "customer_id": "1", "type": "request", "priority": "normal",
            "channel": "phone", "category_id": "0"}),
    Upload("ticket attachment: a script named .png", "/service/tickets/new",
           "/service/tickets/new", "files", "photo.png", HTML,
           "is named .png but its content is text",
           {"subject": "Printer", "customer_id": "1", "type": "request", "priority": "normal",
            "channel": "phone", "category_id": "0"}),
    Upload("ticket attachment: a program named .txt", "/service/tickets/new",
           "/service/tickets/new", "files", "notes.txt", EXE, "are not accepted",
           {"subject": "Printer", "customer_id": "1", "type": "request", "priority": "normal",
            "channel": "phone", "category_id": "0"}),
    Upload("customer import: a zip named .xlsx", "/customers/import", "/customers/import", "file",
           "customers.xlsx", not_a_workbook(), "This is not a valid Excel workbook"),
    Upload("customer import: a picture named .csv", "/customers/import", "/customers/import",
           "file", "customers.csv", PNG, "is not UTF-8 text"),
    Upload("lead import: a program named .csv", "/marketing/leads/import",
           "/marketing/leads/import", "file", "leads.csv", EXE,
           "Save the file as UTF-8 CSV and try again."),
    Upload("purchase history: a picture named .csv", "/analytics/history", "/analytics/history",
           "file", "purchases.csv", PNG, "cannot be read", job=True),
    Upload("company logo: a script named .png", "/admin/settings", "/admin/settings", "logo",
           "logo.png", HTML, "the logo must be a PNG or JPEG image"),
]


def stored_counts(app) -> dict:
    from modules.service.models.tickets import Attachment, Ticket

    with app.app_context():
        return {model.__name__: db.session.execute(select(func.count()).select_from(model))
                .scalar() for model in (Ticket, Attachment)}


@pytest.mark.parametrize("upload", UPLOADS, ids=[u.name for u in UPLOADS])
def test_a_file_whose_extension_lies_is_refused(world, upload):
    client = world.principals["admin"].client
    before = stored_counts(world.app)
    token = csrf_from(client.get(upload.form_page))
    data = {"csrf_token": token, **upload.data,
            upload.field: (io.BytesIO(upload.content), upload.filename)}
    response = client.post(upload.post_to, data=data, content_type="multipart/form-data",
                           follow_redirects=upload.job)
    assert response.status_code in (200, 400, 422), response.data[:300]
    with force_locale("en"):
        assert upload.message in response.get_data(as_text=True)
    assert stored_counts(world.app) == before
    assert not list((world.upload_dir / "imports").glob("*"))
    assert not list(world.upload_dir.glob("history-*"))


def test_a_real_file_with_its_own_name_is_accepted(world):
    """The refusals above are the content check: the same form takes an honest PNG."""
    from modules.service.models.tickets import Attachment

    client = world.principals["admin"].client
    token = csrf_from(client.get("/service/tickets/new"))
    response = client.post("/service/tickets/new", content_type="multipart/form-data", data={
        "csrf_token": token, **UPLOADS[0].data, "files": (io.BytesIO(PNG), "photo.png")})
    assert response.status_code == 302, response.data[:300]
    with world.app.app_context():
        stored = db.session.execute(select(Attachment).order_by(Attachment.id.desc())).scalar()
        assert (stored.filename, stored.content_type) == ("photo.png", "image/png")
