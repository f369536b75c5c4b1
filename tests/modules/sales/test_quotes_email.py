"""Sending a quote by email (real SMTP server) and the customer's answer link."""

import hashlib
import re

import pytest

from core import outbox
from core.extensions import db
from core.i18n import to_persian_digits
from tests.conftest import csrf_from
from tests.core.messaging.servers import SmtpServer
from tests.modules.sales.document_helpers import make_buyer, make_product, make_quote, set_company


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def smtp(app):
    """A real SMTP server (aiosmtpd on 127.0.0.1) as the deployment's mail server."""
    from core.database import set_setting

    server = SmtpServer().start()
    with app.app_context():
        for key, value in {"host": server.host, "port": server.port, "tls": "none",
                           "from": "پیوند <crm@peyvand.test>"}.items():
            set_setting(f"smtp.{key}", value)
        db.session.commit()
    yield server
    server.stop()


def _quote(quote_id):
    from modules.sales.models.documents import Quote

    return db.session.get(Quote, quote_id)


def test_send_with_pdf_then_the_customer_accepts_once_from_the_link(app, client, make_user,
                                                                     login, smtp):
    make_user(seats=["sales"])
    set_company(app)
    product = make_product(app)
    quote_id = make_quote(app, make_buyer(app), [{"product_id": product, "quantity": 2}])
    login()
    page = client.get(f"/sales/quotes/{quote_id}")
    assert b'value="buyer@alfa.example"' in page.data  # the customer's email by default
    sent = client.post(f"/sales/quotes/{quote_id}/send", data={
        "csrf_token": csrf_from(page), "to": "buyer@alfa.example", "message": "با احترام"},
        follow_redirects=True)
    assert b"Quote sent to buyer@alfa.example" in sent.data
    with app.app_context():
        outbox.relay_once()
    [mail] = smtp.wait_for(1)
    message = mail.message
    assert mail.rcpt_tos == ["buyer@alfa.example"]
    with app.app_context():
        quote = _quote(quote_id)
        assert quote.status == "sent" and quote.current.sent_at is not None
        reference = quote.reference
    # the customer reads the deployment's language (Persian): Persian digits in the subject
    assert to_persian_digits(reference) in message["Subject"]
    assert "شرکت پیوند نوین" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"quote-{reference}-v1.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "با احترام" in text
    link = re.search(r"http://localhost/sales/q/(\S+)", text)
    assert link, text
    token = link.group(1)

    # the link is long and random, and only its hash is stored
    assert len(token) >= 43
    with app.app_context():
        assert _quote(quote_id).public_token_hash == hashlib.sha256(token.encode()).hexdigest()

    visitor = app.test_client()
    assert visitor.get(f"/sales/q/{token[:-1]}x").status_code == 404
    public = visitor.get(f"/sales/q/{token}")
    assert public.status_code == 200 and b"data-public-answer" in public.data
    pdf = visitor.get(f"/sales/q/{token}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    accepted = visitor.post(f"/sales/q/{token}", data={
        "csrf_token": csrf_from(public), "answer": "accept", "note": "لطفاً فاکتور کنید"},
        follow_redirects=True)
    assert b'data-answered="accepted"' in accepted.data
    again = visitor.post(f"/sales/q/{token}", data={
        "csrf_token": csrf_from(public), "answer": "reject"})
    assert b"already answered" in again.data

    from modules.sales.models.documents import Order

    with app.app_context():
        quote = _quote(quote_id)
        assert quote.status == "accepted" and quote.response_note == "لطفاً فاکتور کنید"
        [order] = db.session.query(Order).all()
        assert (order.quote_id, order.total, order.status) == (quote_id, quote.current.total,
                                                               "open")
        order_id = order.id
    shown = client.get(f"/sales/quotes/{quote_id}")
    assert b"data-order-link" in shown.data
    made = client.post(f"/sales/orders/{order_id}/invoice",
                       data={"csrf_token": csrf_from(shown)})
    assert made.status_code == 302 and "/sales/invoices/" in made.headers["Location"]


def test_a_sent_quote_cannot_be_answered_after_it_expires(app, make_user):
    from datetime import timedelta

    from modules.sales import quotes

    make_user()
    product = make_product(app)
    quote_id = make_quote(app, make_buyer(app), [{"product_id": product, "quantity": 1}])
    with app.test_request_context():
        quote = _quote(quote_id)
        quote.status = "sent"
        quote.current.valid_until = quotes.today() - timedelta(days=1)
        with pytest.raises(quotes.QuoteError, match="expired"):
            quotes.answer(quote, True)
        assert quotes.answer(quote, False) is None and quote.status == "rejected"


def test_a_bad_address_is_a_field_error(app, make_user):
    from modules.sales import quotes
    from tests.modules.sales.document_helpers import user

    make_user()
    product = make_product(app)
    quote_id = make_quote(app, make_buyer(app), [{"product_id": product, "quantity": 1}])
    with app.test_request_context():
        with pytest.raises(quotes.QuoteError) as refused:
            quotes.send_quote(_quote(quote_id), "not-an-address", by=user())
        assert "to" in refused.value.errors
