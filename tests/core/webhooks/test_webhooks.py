"""Webhooks: core events become signed POSTs through the outbox, retried until accepted."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from core import events
from core.database import utcnow
from core.extensions import db
from core.outbox import OutboxMessage, relay_once
from core.webhooks.delivery import sign, verify
from core.webhooks.models import WebhookEndpoint
from core.webhooks.services import create_endpoint
from tests.conftest import csrf_from


def _endpoint(app, url, events_=("customer_created",), active=True):
    with app.app_context():
        endpoint = create_endpoint(url, list(events_))
        endpoint.active = active
        db.session.commit()
        return endpoint.id, endpoint.secret


def _messages(app):
    with app.app_context():
        return list(db.session.execute(select(OutboxMessage).where(
            OutboxMessage.kind == "webhook").order_by(OutboxMessage.id)).scalars())


def test_event_is_posted_and_signed(app, receiver):
    endpoint_id, secret = _endpoint(app, receiver.url)
    _endpoint(app, receiver.url + "/other", ("invoice_posted",))
    with app.app_context():
        events.customer_created.send(None, customer={"id": 7, "name": "مریم"}, source="import")
        db.session.commit()
        assert relay_once()["delivered"] == 1
    assert len(receiver.received) == 1
    got = receiver.received[0]
    headers, body = got["headers"], got["body"]
    assert got["path"] == "/hooks"
    assert headers["X-Peyvand-Event"] == "customer_created"
    assert headers["X-Peyvand-Delivery"].startswith(f"webhook:{endpoint_id}:")
    timestamp = headers["X-Peyvand-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert headers["X-Peyvand-Signature"] == "sha256=" + expected.hexdigest()
    assert verify(secret, headers["X-Peyvand-Signature"], timestamp, body)
    assert not verify("whsec_wrong", headers["X-Peyvand-Signature"], timestamp, body)
    envelope = json.loads(body)
    assert envelope["event"] == "customer_created"
    assert envelope["data"] == {"customer": {"id": 7, "name": "مریم"}, "source": "import"}
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        assert endpoint.last_result == "ok 200" and endpoint.last_delivery_at is not None


def test_failures_are_retried_until_the_receiver_accepts(app, receiver):
    receiver.statuses = [500, 503]
    endpoint_id, _secret = _endpoint(app, receiver.url, ("*",))
    with app.app_context():
        events.payment_recorded.send(None, payment={"id": 1, "amount": 1_500_000})
        db.session.commit()
        assert relay_once()["retry"] == 1
        message = _messages(app)[0]
        assert message.status == "pending" and message.attempts == 1
        assert "answered 500" in message.last_error
        assert relay_once()["delivered"] == 0  # not due yet: backoff
        assert relay_once(now=utcnow() + timedelta(hours=1))["retry"] == 1
        assert relay_once(now=utcnow() + timedelta(hours=3))["delivered"] == 1
        assert db.session.get(WebhookEndpoint, endpoint_id).last_result == "ok 200"
    message = _messages(app)[0]
    assert message.status == "delivered" and message.attempts == 3
    deliveries = {r["headers"]["X-Peyvand-Delivery"] for r in receiver.received}
    assert len(receiver.received) == 3 and deliveries == {message.key}


def test_unreachable_receiver_is_retried(app, receiver):
    receiver.server.server_close()
    _endpoint(app, receiver.url)
    with app.app_context():
        events.customer_created.send(None, customer={"id": 1})
        db.session.commit()
        assert relay_once()["retry"] == 1
    assert "could not be reached" in _messages(app)[0].last_error


def test_only_wanted_events_of_active_endpoints_are_queued(app, receiver):
    _endpoint(app, receiver.url, ("invoice_posted",))
    _endpoint(app, receiver.url, ("*",), active=False)
    with app.app_context():
        events.customer_created.send(None, customer={"id": 1})
        db.session.commit()
    assert _messages(app) == []


def test_messages_share_the_business_transaction(app, receiver):
    _endpoint(app, receiver.url)
    with app.app_context():
        events.customer_created.send(None, customer={"id": 1})
        db.session.rollback()
        assert relay_once()["delivered"] == 0
    assert _messages(app) == [] and receiver.received == []


def test_disabled_endpoint_drops_pending_deliveries(app, receiver):
    endpoint_id, _secret = _endpoint(app, receiver.url)
    with app.app_context():
        events.customer_created.send(None, customer={"id": 1})
        db.session.get(WebhookEndpoint, endpoint_id).active = False
        db.session.commit()
        relay_once()
    assert receiver.received == []


def test_admin_page_adds_tests_and_disables(app, client, make_user, login, receiver):
    make_user()
    login()
    page = client.get("/admin/webhooks/")
    assert page.status_code == 200
    token = csrf_from(page)
    created = client.post("/admin/webhooks/", data={
        "url": receiver.url, "description": "ERP", "events": ["invoice_posted", "ticket_closed"],
        "csrf_token": token})
    assert created.status_code == 201
    with app.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        assert endpoint.events == ["invoice_posted", "ticket_closed"]
        secret, endpoint_id = endpoint.secret, endpoint.id
    assert secret in created.get_data(as_text=True)
    listing = client.get("/admin/webhooks/").get_data(as_text=True)
    assert secret not in listing and receiver.url in listing
    sent = client.post(f"/admin/webhooks/{endpoint_id}/test", data={"csrf_token": token})
    assert sent.status_code == 302
    with app.app_context():
        relay_once()  # delivers now whether or not the request already ran the relay inline
    assert [r["headers"]["X-Peyvand-Event"] for r in receiver.received] == ["ping"]
    ping = receiver.received[0]
    assert verify(secret, ping["headers"]["X-Peyvand-Signature"],
                  ping["headers"]["X-Peyvand-Timestamp"], ping["body"])
    assert "ok 200" in client.get("/admin/webhooks/").get_data(as_text=True)
    client.post(f"/admin/webhooks/{endpoint_id}/toggle", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id).active is False


def test_admin_page_refuses_bad_input_and_non_admins(client, make_user, login):
    make_user()
    make_user("agent@example.ir", role="agent")
    login()
    page = client.get("/admin/webhooks/")
    bad = client.post("/admin/webhooks/", data={"url": "not a url", "csrf_token": csrf_from(page)})
    assert bad.status_code == 400
    client.post("/auth/logout", data={"csrf_token": csrf_from(page)})
    login("agent@example.ir")
    assert client.get("/admin/webhooks/").status_code == 403


@given(body=st.binary(max_size=200), other=st.binary(max_size=200),
       timestamp=st.integers(min_value=1_600_000_000, max_value=2_000_000_000))
def test_signature_binds_body_and_timestamp(body, other, timestamp):
    secret = "whsec_test"
    signature = sign(secret, str(timestamp), body)
    assert verify(secret, signature, str(timestamp), body, now=timestamp)
    assert verify(secret, signature, str(timestamp), other, now=timestamp) == (other == body)
    assert not verify(secret, signature, str(timestamp + 1), body, now=timestamp)
    assert not verify(secret, signature, str(timestamp), body, now=timestamp + 301)
