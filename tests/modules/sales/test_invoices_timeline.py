"""Quotes, invoices and payments on the customer 360 timeline; they follow a customer merge."""

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    make_quote,
    set_company,
    user,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def documents(app, make_user):
    from core.customers.models import Customer
    from modules.sales import payments

    make_user(seats=["sales"])
    set_company(app)
    customer = make_buyer(app)
    product = make_product(app)
    quote = make_quote(app, customer, [{"product_id": product, "quantity": 1}])
    invoice = make_invoice(app, customer, [{"product_id": product, "quantity": 1}], post=True)
    with app.test_request_context():
        payment = payments.record_payment(db.session.get(Customer, customer), amount=500_000,
                                          method="cash", by=user()).id
        db.session.commit()
    return {"customer": customer, "product": product, "quote": quote, "invoice": invoice,
            "payment": payment}


def test_the_360_page_shows_quotes_invoices_and_payments(app, client, login, documents):
    login()
    page = client.get(f"/customers/{documents['customer']}")
    html = page.data.decode()
    assert 'data-entry="quote"' in html and f"/sales/quotes/{documents['quote']}" in html
    assert 'data-entry="invoice"' in html and f"/sales/invoices/{documents['invoice']}" in html
    assert 'data-entry="payment"' in html and "Payment by Cash" in html
    assert 'data-module="sales"' in html


def test_documents_follow_a_customer_merge(app, documents):
    from core.customers.merge import merge_customers
    from core.customers.models import Customer
    from modules.sales.models.documents import Invoice, Quote
    from modules.sales.models.payments import Payment
    from modules.sales.receivables import customer_balance

    twin = make_buyer(app, display_name="آلفا دوم")
    twin_invoice = make_invoice(app, twin, [{"product_id": documents["product"],
                                             "quantity": 2}], post=True)
    with app.test_request_context():
        survivor = db.session.get(Customer, documents["customer"])
        merge_customers(survivor, db.session.get(Customer, twin), by=user())
        db.session.commit()
        for model in (Quote, Invoice, Payment):
            owners = set(db.session.execute(select(model.customer_id)).scalars())
            assert owners == {documents["customer"]}, model
        moved = db.session.get(Invoice, twin_invoice)
        assert moved.buyer_name == "آلفا دوم"  # what was printed stays printed
        owed = customer_balance(documents["customer"])
        assert owed.invoiced == 1_320_000 + 2_640_000 and owed.paid == 500_000
