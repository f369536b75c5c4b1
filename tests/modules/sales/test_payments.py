"""Payments: partial payments, allocations, cheques (Sayad number, flow, bounce re-opens the
receivable), payment_recorded, the payment form, and Idempotency-Key on the API."""

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.sales.deal_helpers import bearer_for
from tests.modules.sales.document_helpers import (
    balance,
    make_buyer,
    make_invoice,
    make_product,
    set_company,
    user,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def invoice(app, make_user):
    """A posted invoice of 2,640,000 rials (2 × 1,200,000 + 10% VAT)."""
    make_user(seats=["sales"])
    set_company(app)
    customer = make_buyer(app)
    product = make_product(app)
    invoice_id = make_invoice(app, customer, [{"product_id": product, "quantity": 2}], post=True)
    return {"id": invoice_id, "customer": customer, "product": product}


def _customer(customer_id):
    from core.customers.models import Customer

    return db.session.get(Customer, customer_id)


def _invoice(invoice_id):
    from modules.sales.models.documents import Invoice

    return db.session.get(Invoice, invoice_id)


def test_partial_payments_settle_the_invoice_step_by_step(app, invoice):
    from modules.sales import payments
    from modules.sales.receivables import customer_balance

    with app.test_request_context():
        cash = payments.record_payment(_customer(invoice["customer"]), amount="۱٬۰۰۰٬۰۰۰",
                                       method="cash", by=user())
        db.session.commit()
        assert [(a.invoice_id, a.amount) for a in cash.allocations] == [(invoice["id"],
                                                                         1_000_000)]
    assert balance(app, invoice["id"]) == 1_640_000
    with app.test_request_context():
        with pytest.raises(payments.PaymentError) as refused:
            payments.record_payment(_customer(invoice["customer"]), amount=2_000_000,
                                    method="card", by=user(),
                                    allocations=[(_invoice(invoice["id"]), 2_000_000)])
        assert "Only 1,640,000 Rial is still owed" in refused.value.errors["allocations-0"]
        db.session.rollback()
        card = payments.record_payment(_customer(invoice["customer"]), amount=2_000_000,
                                       method="card", reference="778899", by=user(),
                                       allocations=[(_invoice(invoice["id"]), 1_640_000)])
        db.session.commit()
        assert (card.status, card.unallocated) == ("cleared", 360_000)
        owed = customer_balance(invoice["customer"])
        assert (owed.invoiced, owed.paid, owed.balance) == (2_640_000, 3_000_000, -360_000)
    assert balance(app, invoice["id"]) == 0

    later = make_invoice(app, invoice["customer"], [{"product_id": invoice["product"],
                                                     "quantity": 1}], post=True)
    with app.test_request_context():
        from modules.sales.models.payments import Payment

        card = db.session.get(Payment, card.id)
        payments.allocate_credit(card, _invoice(later), 360_000)
        db.session.commit()
    assert balance(app, later) == 1_320_000 - 360_000


def test_a_cheque_needs_its_sayad_number_bank_and_date(app, invoice):
    from modules.sales import payments

    assert payments.check_sayad("۱۲۳۴ ۵۶۷۸ ۹۰۱۲ ۳۴۵۶") == "1234567890123456"
    with app.test_request_context():
        with pytest.raises(payments.PaymentError) as refused:
            payments.record_payment(_customer(invoice["customer"]), amount=1_000, by=user(),
                                    method="cheque", sayad_number="123456789012345")
        assert refused.value.errors == {
            "sayad_number": "123456789012345 is not a Sayad number: it has 16 digits",
            "bank": "Name the bank the cheque is drawn on.",
            "cheque_due_date": "Give the date written on the cheque."}
        with pytest.raises(payments.PaymentError) as refused:
            payments.record_payment(_customer(invoice["customer"]), amount=0, method="gold",
                                    by=user())
        assert set(refused.value.errors) == {"amount", "method"}


def test_a_bounced_cheque_reopens_what_it_paid(app, invoice):
    from core.events import payment_recorded
    from modules.sales import payments
    from modules.sales.quotes import today
    from modules.sales.receivables import customer_balance

    heard = []

    def listener(sender, **kw):
        heard.append((kw["amount"], kw["status"], kw["key"]))

    payment_recorded.connect(listener)
    try:
        with app.test_request_context():
            cheque = payments.record_payment(
                _customer(invoice["customer"]), amount=2_640_000, method="cheque", by=user(),
                sayad_number="1234567890123456", bank="ملت", cheque_due_date=today())
            db.session.commit()
            assert cheque.status == "received"
            assert customer_balance(invoice["customer"]).uncleared_cheques == 2_640_000
            assert balance(app, invoice["id"]) == 0
            payments.set_cheque_status(cheque, "deposited")
            db.session.commit()
            with pytest.raises(payments.PaymentError, match="cannot become Received"):
                payments.set_cheque_status(cheque, "received")
            payments.set_cheque_status(cheque, "bounced")
            db.session.commit()
            assert balance(app, invoice["id"]) == 2_640_000
            assert customer_balance(invoice["customer"]).balance == 2_640_000
            with pytest.raises(payments.PaymentError, match="cannot become Cleared"):
                payments.set_cheque_status(cheque, "cleared")
            cheque_id = cheque.id
    finally:
        payment_recorded.disconnect(listener)
    assert heard == [(2_640_000, "received", f"sales.payment:{cheque_id}"),
                     (-2_640_000, "bounced", f"sales.payment:{cheque_id}:bounced")]


def test_record_a_cheque_in_the_form_and_clear_it(app, invoice, client, login):
    from modules.sales.models.payments import Payment

    login()
    shown = client.get(f"/sales/invoices/{invoice['id']}")
    assert b"data-record-payment" in shown.data
    page = client.get(f"/sales/payments/new?customer_id={invoice['customer']}"
                      f"&invoice_id={invoice['id']}")
    assert b'value="2,640,000"' in page.data  # the amount still owed, proposed
    form = {"csrf_token": csrf_from(page), "customer_id": str(invoice["customer"]),
            "invoice_id": str(invoice["id"]), "amount": "1,000,000", "method": "cheque",
            "received_on": "", "reference": "", "sayad_number": "12345", "bank": "",
            "cheque_due_date": "1404/13/01", "note": "", "action": "save"}
    refused = client.post("/sales/payments/new", data=form)
    assert b"is not a Sayad number" in refused.data
    assert b"has no month 13" in refused.data
    saved = client.post("/sales/payments/new", data={
        **form, "sayad_number": "۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶", "bank": "ملی", "cheque_due_date": "1404/08/15"})
    assert saved.status_code == 302, saved.data[:2000]
    payment_page = client.get(saved.headers["Location"])
    assert b'data-cheque-status="received"' in payment_page.data
    payment_id = int(saved.headers["Location"].rstrip("/").split("/")[-1])
    for status in ("deposited", "cleared"):
        client.post(f"/sales/payments/{payment_id}/status",
                    data={"csrf_token": csrf_from(payment_page), "status": status})
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert (payment.status, payment.sayad_number, payment.amount) == (
            "cleared", "1234567890123456", 1_000_000)
    assert balance(app, invoice["id"]) == 1_640_000
    listed = client.get("/sales/payments/?method=cheque")
    assert f'data-payment="{payment_id}"'.encode() in listed.data


def test_creating_invoices_and_payments_through_the_api_honours_idempotency_keys(app, invoice,
                                                                                 client):
    from modules.sales.models.documents import Invoice
    from modules.sales.models.payments import Payment

    headers = bearer_for(app, "admin@example.ir")
    body = {"customer_id": invoice["customer"], "post": True,
            "lines": [{"product_id": invoice["product"], "quantity": "0.5"}]}
    first = client.post("/api/v1/sales/invoices", json=body,
                        headers={**headers, "Idempotency-Key": "inv-1"})
    assert first.status_code == 201, first.data
    again = client.post("/api/v1/sales/invoices", json=body,
                        headers={**headers, "Idempotency-Key": "inv-1"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    made = first.get_json()
    assert (made["status"], made["number"], made["total"]) == ("posted", 2, 660_000)
    assert made["lines"][0]["quantity"] == "0.5"
    pdf = client.get(f"/api/v1/sales/invoices/{made['id']}/pdf", headers=headers)
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")

    payment = {"customer_id": invoice["customer"], "amount": 660_000, "method": "transfer",
               "reference": "TR-1", "allocations": [{"invoice_id": made["id"],
                                                     "amount": 660_000}]}
    paid = client.post("/api/v1/sales/payments", json=payment,
                       headers={**headers, "Idempotency-Key": "pay-1"})
    assert paid.status_code == 201, paid.data
    replay = client.post("/api/v1/sales/payments", json=payment,
                         headers={**headers, "Idempotency-Key": "pay-1"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == paid.get_json()["id"]
    other = client.post("/api/v1/sales/payments", json={**payment, "amount": 1},
                        headers={**headers, "Idempotency-Key": "pay-1"})
    assert other.status_code == 422
    bad = client.post("/api/v1/sales/payments", headers=headers, json={
        "customer_id": invoice["customer"], "amount": 5, "method": "cheque",
        "sayad_number": "1"})
    assert bad.status_code == 422 and "sayad_number" in bad.get_json()["errors"]
    with app.app_context():
        assert db.session.execute(select(func.count(Invoice.id))).scalar() == 2
        assert db.session.execute(select(func.count(Payment.id))).scalar() == 1
    assert client.get(f"/api/v1/sales/invoices/{made['id']}",
                      headers=headers).get_json()["balance"] == 0
    listed = client.get(f"/api/v1/sales/payments?customer_id={invoice['customer']}",
                        headers=headers).get_json()
    assert [p["id"] for p in listed["items"]] == [paid.get_json()["id"]]
