"""Persian pages keep document numbers in writing order: a reference such as ۱۴۰۵-۱ inside
Persian text is a left-to-right isolate (LRI … PDI), else it would show as ۱-۱۴۰۵."""

from core.extensions import db
from core.i18n import LRI, PDI, to_persian_digits
from tests.conftest import csrf_from
from tests.modules.sales.document_helpers import make_buyer, make_invoice, make_product


def isolated(reference: str) -> str:
    return f"{LRI}{to_persian_digits(reference)}{PDI}"


def test_quote_and_invoice_numbers_are_isolated_in_persian(app, client, make_user, login):
    from modules.sales.models.documents import Invoice, Quote

    make_user(seats=["sales"], locale="fa")
    login()
    product = make_product(app, price=1_500_000)
    customer = make_buyer(app)
    page = client.get(f"/sales/quotes/new?customer_id={customer}")
    saved = client.post("/sales/quotes/new", data={
        "csrf_token": csrf_from(page), "customer_id": str(customer),
        "lines-0-product_id": str(product), "lines-0-quantity": "۲", "action": "save"})
    assert saved.status_code == 302, saved.data[:1000]
    shown = client.get(saved.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        quote = db.session.execute(db.select(Quote)).scalar_one()
        plain_quote = to_persian_digits(quote.reference)
        quote_ref = isolated(quote.reference)
    assert quote_ref.strip(LRI + PDI).count("-") == 1
    # the flash "پیش‌فاکتور ⁦۱۴۰۵-۱⁩ ذخیره شد." and the page heading and title
    assert shown.count(quote_ref) >= 3, shown[:3000]
    assert quote_ref in shown.split("<title>")[1].split("</title>")[0]

    invoice_id = make_invoice(app, customer, [{"product_id": product, "quantity": 1}],
                              post=True)
    with app.app_context():
        invoice_ref = isolated(db.session.get(Invoice, invoice_id).reference)
    heading = client.get(f"/sales/invoices/{invoice_id}").get_data(as_text=True)
    assert invoice_ref in heading.split("<h1", 1)[1].split("</h1>", 1)[0]

    # the customer's timeline: "پیش‌فاکتور ⁦۱۴۰۵-۱⁩: …" and "فاکتور ⁦۱۴۰۵-۱⁩"
    timeline = client.get(f"/customers/{customer}").get_data(as_text=True)
    assert quote_ref in timeline and invoice_ref in timeline
    import re

    sales = "".join(re.findall(r'<li[^>]*data-module="sales".*?</li>', timeline, re.S))
    assert plain_quote not in sales.replace(quote_ref, "")  # never without its isolate


def test_invoice_title_isolates_in_persian_and_stays_plain_in_english(app):
    from flask_babel import force_locale

    from modules.sales.invoices import title
    from modules.sales.models.documents import Invoice

    invoice = Invoice(kind="invoice", status="posted", fiscal_year=1405, number=1)
    with app.test_request_context():
        with force_locale("fa"):
            assert isolated("1405-1") in title(invoice)
        with force_locale("en"):
            assert title(invoice) == "Invoice 1405-1"
