"""Sales pages of the customer portal: only the customer's own issued quotes and invoices."""

import shutil
import subprocess

import pytest

from core.extensions import db
from tests.core.portal.helpers import portal_sign_in
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    make_quote,
    set_company,
)


@pytest.fixture
def documents(app, make_user):
    from modules.sales.models.documents import Quote

    make_user(seats=["sales"])
    set_company(app)
    mine = make_buyer(app)
    other = make_buyer(app, display_name="بتا", legal_name="شرکت بتا",
                       emails=["buyer@beta.example"])
    product = make_product(app, price=1_200_000)
    items = [{"product_id": product, "quantity": 2}]
    ids = {
        "posted": make_invoice(app, mine, items, post=True),
        "draft": make_invoice(app, mine, items),
        "other": make_invoice(app, other, items, post=True),
        "quote": make_quote(app, mine, items),
        "draft_quote": make_quote(app, mine, items),
    }
    with app.app_context():
        db.session.get(Quote, ids["quote"]).status = "sent"
        db.session.commit()
    return ids


def test_invoices_list_and_pdf_only_for_my_posted_invoices(app, client, documents, tmp_path):
    portal_sign_in(app, client, "buyer@alfa.example", to="buyer@alfa.example")
    page = client.get("/portal/sales/invoices").get_data(as_text=True)
    assert f'data-invoice="{documents["posted"]}"' in page
    assert f'data-invoice="{documents["draft"]}"' not in page
    assert f'data-invoice="{documents["other"]}"' not in page
    response = client.get(f"/portal/sales/invoices/{documents['posted']}/pdf")
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    assert client.get(f"/portal/sales/invoices/{documents['other']}/pdf").status_code == 404
    assert client.get(f"/portal/sales/invoices/{documents['draft']}/pdf").status_code == 404
    if shutil.which("pdftotext"):
        path = tmp_path / "invoice.pdf"
        path.write_bytes(response.data)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "آلفا" in text


def test_quotes_list_and_pdf_only_once_sent(app, client, documents):
    portal_sign_in(app, client, "buyer@alfa.example", to="buyer@alfa.example")
    page = client.get("/portal/sales/quotes").get_data(as_text=True)
    assert f'data-quote="{documents["quote"]}"' in page
    assert f'data-quote="{documents["draft_quote"]}"' not in page
    assert client.get(f"/portal/sales/quotes/{documents['quote']}/pdf").data.startswith(b"%PDF")
    assert client.get(f"/portal/sales/quotes/{documents['draft_quote']}/pdf").status_code == 404


def test_another_customer_sees_none_of_them(app, client, documents):
    portal_sign_in(app, client, "buyer@beta.example", to="buyer@beta.example")
    page = client.get("/portal/sales/invoices").get_data(as_text=True)
    assert f'data-invoice="{documents["other"]}"' in page
    assert f'data-invoice="{documents["posted"]}"' not in page
    assert client.get(f"/portal/sales/invoices/{documents['posted']}/pdf").status_code == 404
    assert client.get(f"/portal/sales/quotes/{documents['quote']}/pdf").status_code == 404
    assert "data-empty-state" in client.get("/portal/sales/quotes").get_data(as_text=True)


def test_the_sales_pages_leave_the_menu_when_sales_is_not_licensed(app, client, documents):
    portal_sign_in(app, client, "buyer@alfa.example", to="buyer@alfa.example")
    assert 'data-portal-page="sales_portal.invoices"' in client.get("/portal/").get_data(
        as_text=True)
    from core.modules import registry

    with app.app_context():
        reg = registry(app)
        original = reg.active
        reg.active = lambda: {n for n in original() if n != "sales"}
        try:
            home = app.test_client()
            portal_sign_in(app, home, "buyer@alfa.example", to="buyer@alfa.example")
            page = home.get("/portal/").get_data(as_text=True)
        finally:
            reg.active = original
    assert 'data-portal-page="sales_portal.invoices"' not in page
    assert 'data-portal-page="service_portal.tickets"' in page
