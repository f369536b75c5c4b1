"""Every quote, order, invoice and payment page in Persian shows Persian digits only."""

import re

from core.extensions import db
from tests.conftest import csrf_from
from tests.core.test_translations import latin_in
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    make_quote,
    set_company,
    user,
)


def test_document_pages_in_persian_show_no_latin_digits(app, client, make_user, login):
    from core.customers.models import Customer
    from modules.sales import invoices, payments, quotes
    from modules.sales.models.documents import Invoice, Order, Quote
    from modules.sales.quotes import today

    make_user(seats=["sales"], locale="fa")
    set_company(app)
    customer = make_buyer(app)
    product = make_product(app, code="LAP-01", price=12_500_000, stock_quantity=12)
    items = [{"product_id": product, "quantity": "2.5", "discount_percent": "12.5"}]
    quote_id = make_quote(app, customer, items, discount=10_000)
    sent_id = make_quote(app, customer, items)
    invoice_id = make_invoice(app, customer, items, post=True, discount=1_000)
    draft_id = make_invoice(app, customer, items)
    with app.test_request_context("/", method="POST"):
        sent = db.session.get(Quote, sent_id)
        sent.status = "sent"
        token = quotes.new_link(sent)
        order = quotes.make_order(sent)
        note = invoices.create_credit_note(db.session.get(Invoice, invoice_id), by=user())
        cheque = payments.record_payment(
            db.session.get(Customer, customer), amount=1_000_000, method="cheque", by=user(),
            sayad_number="1234567890123456", bank="ملت", cheque_due_date=today())
        db.session.commit()
        order_id, note_id, cheque_id = order.id, note.id, cheque.id
        assert db.session.get(Order, order_id).total > 0

    login()
    page = client.get(f"/sales/quotes/{quote_id}/edit")
    recalculated = client.post(f"/sales/quotes/{quote_id}/edit", data={
        "csrf_token": csrf_from(page), "customer_id": str(customer),
        "lines-0-product_id": str(product), "lines-0-quantity": "۳", "action": "recalc"})
    pages = {"recalculated quote": recalculated}
    for path in ("/sales/quotes/", "/sales/quotes/new", f"/sales/quotes/{quote_id}",
                 f"/sales/quotes/{quote_id}/edit", f"/sales/quotes/{sent_id}",
                 "/sales/orders/", f"/sales/orders/{order_id}", "/sales/invoices/",
                 f"/sales/invoices/{invoice_id}", f"/sales/invoices/{draft_id}",
                 f"/sales/invoices/{draft_id}/edit", f"/sales/invoices/{invoice_id}/credit",
                 f"/sales/invoices/{invoice_id}/correct", f"/sales/invoices/{note_id}",
                 "/sales/payments/", f"/sales/payments/{cheque_id}",
                 f"/sales/payments/new?customer_id={customer}&invoice_id={invoice_id}",
                 "/sales/receivables"):
        pages[path] = client.get(path)
    pages["public answer page"] = app.test_client().get(f"/sales/q/{token}")
    for path, response in pages.items():
        assert response.status_code == 200, path
        digits = [w for w in latin_in(response.get_data(as_text=True)) if re.match(r"\d", w)]
        assert digits == [], (path, digits)
    # this module's entries on the customer's 360 timeline
    html = client.get(f"/customers/{customer}").get_data(as_text=True)
    entries = re.findall(r'<li[^>]*data-module="sales".*?</li>', html, re.S)
    assert len(entries) >= 4  # two quotes, the invoice, the payment
    digits = [w for w in latin_in("".join(entries)) if re.match(r"\d", w)]
    assert digits == [], digits
