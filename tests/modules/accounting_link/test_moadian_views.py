"""E-invoice pages: the list with status, one payload as JSON, building one for a posted
invoice by its number, sending it, the settings form, and who may do what."""

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.accounting_link.moadian_helpers import einvoice, seed, two_line_invoice


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def seeded(app, make_user, login):
    seeded = seed(app, make_user)
    login()
    return seeded


def _reference(app, invoice_id) -> str:
    from modules.sales.models.documents import Invoice

    with app.app_context():
        return db.session.get(Invoice, invoice_id).reference


def test_build_from_the_list_then_see_the_payload_and_send_it(app, client, seeded):
    from core.database import set_setting
    from core.outbox import OutboxMessage
    from modules.accounting_link.moadian_submit import KEYS

    empty = client.get("/accounting/moadian")
    assert "No e-invoices yet" in empty.get_data(as_text=True)
    assert "Submission is off" in empty.get_data(as_text=True)
    invoice_id = two_line_invoice(app, seeded)
    missing = client.post("/accounting/moadian/build", data={
        "kind": "invoice", "reference": "1399-77", "csrf_token": csrf_from(empty)})
    assert missing.status_code == 422
    assert "There is no posted document with this number." in missing.get_data(as_text=True)
    built = client.post("/accounting/moadian/build", data={
        "kind": "invoice", "reference": _reference(app, invoice_id),
        "csrf_token": csrf_from(empty)})
    assert built.status_code == 302
    with app.app_context():
        record = einvoice(invoice_id)
        record_id, tax_id = record.id, record.tax_id
    assert built.headers["Location"].endswith(f"/accounting/moadian/{record_id}")
    page = client.get(f"/accounting/moadian/{record_id}")
    text = page.get_data(as_text=True)
    assert f'<code data-tax-id>{tax_id}</code>' in text
    assert f'&#34;taxid&#34;: &#34;{tax_id}&#34;' in text  # the payload, pretty JSON
    assert '&#34;tbill&#34;: 2816000' in text and "data-moadian-send" not in text  # off
    listing = client.get("/accounting/moadian").get_data(as_text=True)
    assert f'data-einvoice="{record_id}" data-status="ready"' in listing
    assert "data-einvoice=" not in client.get("/accounting/moadian?status=sent").get_data(
        as_text=True)

    with app.app_context():
        set_setting(KEYS["enabled"], True)
        set_setting(KEYS["endpoint"], "http://127.0.0.1:9/moadian")
        db.session.commit()
    page = client.get(f"/accounting/moadian/{record_id}")
    assert "data-moadian-send" in page.get_data(as_text=True)
    sent = client.post(f"/accounting/moadian/{record_id}/send",
                       data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert f"E-invoice {tax_id} is queued." in sent.get_data(as_text=True)
    with app.app_context():
        assert einvoice(invoice_id).status in ("pending", "failed")
        message = db.session.execute(db.select(OutboxMessage).where(
            OutboxMessage.key == f"moadian:{tax_id}")).scalar_one()
        assert message.kind == "accounting.moadian"


def test_a_build_that_cannot_be_done_says_why_and_keeps_the_input(app, client, seeded):
    from core.database import set_setting
    from modules.accounting_link.moadian_submit import KEYS

    invoice_id = two_line_invoice(app, seeded)
    with app.app_context():
        set_setting(KEYS["memory_id"], "")
        db.session.commit()
    page = client.get("/accounting/moadian")
    reference = _reference(app, invoice_id)
    refused = client.post("/accounting/moadian/build", data={
        "kind": "invoice", "reference": reference, "csrf_token": csrf_from(page)})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "The memory id (شناسه یکتای حافظه مالیاتی) is 6 Latin letters or digits" in text
    assert f'value="{reference}"' in text
    with app.app_context():
        assert einvoice(invoice_id) is None


def test_settings_are_checked_then_saved(app, client, seeded):
    from core.database import get_setting
    from modules.accounting_link.moadian_submit import KEYS

    page = client.get("/accounting/moadian/settings")
    assert page.status_code == 200 and 'value="A1B2C3"' in page.get_data(as_text=True)
    wrong = client.post("/accounting/moadian/settings", data={
        "memory_id": "AB!", "sstid": "12", "unit_code": "1627", "endpoint": "",
        "enabled": "y", "csrf_token": csrf_from(page)})
    text = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert "is 6 Latin letters or digits" in text
    assert "The product/service id is 13 digits" in text
    assert "Submission needs an endpoint to send the e-invoices to." in text
    saved = client.post("/accounting/moadian/settings", data={
        "memory_id": "z9y8x7", "sstid": "۲۳۳۰۰۰۱۲۳۴۵۶۷", "unit_code": "1627",
        "endpoint": "https://gateway.example/moadian", "enabled": "y",
        "csrf_token": csrf_from(page)})
    assert saved.status_code == 302
    with app.app_context():
        assert get_setting(KEYS["memory_id"]) == "Z9Y8X7"
        assert get_setting(KEYS["sstid"]) == "2330001234567"
        assert get_setting(KEYS["enabled"]) is True
        assert get_setting(KEYS["endpoint"]) == "https://gateway.example/moadian"


def test_only_managers_build_and_change_settings(app, client, make_user, login):
    make_user("agent@example.ir", role="agent", seats=["sales"], locale="en")
    login("agent@example.ir")
    assert client.get("/accounting/moadian").status_code in (403, 404)
    assert client.get("/accounting/moadian/settings").status_code in (403, 404)
    assert client.post("/accounting/moadian/build", data={}).status_code in (400, 403, 404)
