"""Invoice and quote PDFs read back with pdftotext: buyer, Jalali date, Persian-digit total,
amount in words; page numbers on long invoices; nothing fetched from outside core/static."""

import shutil
import subprocess

import pytest

from core.extensions import db
from core.i18n import jdate, to_persian_digits
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    make_quote,
    set_company,
)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="needs pdftotext (apt-get install poppler-utils)")


def pdf_text(data: bytes, tmp_path, layout: bool = False) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pages(data: bytes, tmp_path) -> int:
    path = tmp_path / "pages.pdf"
    path.write_bytes(data)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines()
                    if line.startswith("Pages:")))


@pytest.fixture
def posted(app, make_user):
    make_user(seats=["sales"])
    set_company(app)
    customer = make_buyer(app)
    product = make_product(app, price=1_200_000)
    invoice_id = make_invoice(app, customer, [{"product_id": product, "quantity": 2}],
                              post=True)
    return {"invoice": invoice_id, "customer": customer, "product": product}


def test_the_invoice_pdf_reads_back_in_persian(app, client, login, posted, tmp_path):
    from modules.sales.models.documents import Invoice

    login()
    response = client.get(f"/sales/invoices/{posted['invoice']}/pdf")
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = pdf_text(response.data, tmp_path)
    with app.app_context():
        invoice = db.session.get(Invoice, posted["invoice"])
        issued = jdate(invoice.issue_date, locale="fa")  # e.g. ۱۴۰۴/۰۸/۲۰
        reference = invoice.reference
    assert "شرکت بازرگانی آلفا" in text  # the buyer's legal name
    assert "۱۰۳۲۰۸۹۱۱۸۹" in text  # the buyer's national id, Persian digits
    assert "شرکت پیوند نوین" in text and "۱۰۱۰۱۰۱۰۱۰۳" in text  # the seller
    assert issued in text and not any(c.isascii() and c.isdigit() for c in issued)
    assert "۲٬۶۴۰٬۰۰۰" in text  # the total, Persian digits and separator
    assert "دو میلیون و ششصد و چهل هزار ریال" in text  # the amount in words
    assert reference.replace("-", "") not in text.replace("-", "")  # no Latin-digit number
    assert to_persian_digits(reference) in text


def test_a_long_invoice_runs_over_pages_with_its_header_and_numbers(app, posted, tmp_path):
    from modules.sales.models.documents import Invoice
    from modules.sales.pdf import invoice_html, invoice_pdf

    items = [{"description": f"قطعه شماره {n}", "quantity": "1.5", "unit_price": 10_000 + n}
             for n in range(250)]
    invoice_id = make_invoice(app, posted["customer"], items, post=True)
    with app.test_request_context():
        invoice = db.session.get(Invoice, invoice_id)
        html = invoice_html(invoice)
        data = invoice_pdf(invoice)
    assert html.count("<bdi>") > 250 * 8  # every number isolated
    assert pages(data, tmp_path) >= 5
    text = pdf_text(data, tmp_path)
    assert text.count("قطعه شماره") == 250 and "249" in text  # the last line made it
    count = to_persian_digits(pages(data, tmp_path))
    assert f"{count}/{count}" in text.replace(" ", "")  # "page n of n" in Persian digits


def test_the_quote_pdf_has_its_number_validity_and_buyer(app, posted, tmp_path):
    from modules.sales.models.documents import Quote
    from modules.sales.pdf import quote_pdf

    quote_id = make_quote(app, posted["customer"], [{"product_id": posted["product"],
                                                     "quantity": 1}])
    with app.test_request_context():
        quote = db.session.get(Quote, quote_id)
        text = pdf_text(quote_pdf(quote), tmp_path)
        assert jdate(quote.current.valid_until, locale="fa") in text
        assert "شرکت بازرگانی آلفا" in text and "۱٬۳۲۰٬۰۰۰" in text
        assert "یک میلیون و سیصد و بیست هزار ریال" in text


def test_a_draft_says_it_is_not_an_invoice(app, posted):
    from modules.sales.models.documents import Invoice
    from modules.sales.pdf import invoice_html

    draft = make_invoice(app, posted["customer"], [{"product_id": posted["product"],
                                                    "quantity": 1}])
    with app.test_request_context():
        html = invoice_html(db.session.get(Invoice, draft), language="en")
    assert "Draft — not a valid invoice" in html and 'dir="ltr"' in html


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x.png", "file:///etc/passwd"])
def test_documents_cannot_fetch_anything_outside_static(app, url):
    from weasyprint.urls import FatalURLFetchingError

    from modules.sales.pdf import render_pdf

    with app.app_context(), pytest.raises(FatalURLFetchingError):
        render_pdf(f'<html><body><img src="{url}"></body></html>')
