"""SMS through real local HTTP gateways: generic provider, Kavenegar-style, failures, opt-out."""

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import messaging, outbox
from core.database import set_setting, utcnow
from core.extensions import db
from core.messaging import MessageLog
from core.messaging.sms import format_number, json_path
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    return {"OUTBOX_MAX_ATTEMPTS": 3}


def configure(app, provider, config):
    with app.app_context():
        set_setting("sms.provider", provider)
        set_setting("sms.config", config)
        db.session.commit()


def only_log():
    return db.session.scalar(select(MessageLog))


def test_generic_gateway_post_form_with_auth_and_json_success(app, http_gateway):
    http_gateway.respond = lambda req: (200, {"result": {"ok": True, "id": 9876}})
    configure(app, "generic", {
        "url": http_gateway.url + "/send", "method": "POST", "to_param": "mobile",
        "text_param": "body", "sender_param": "line", "sender": "3000123",
        "to_format": "local", "auth_header": "Authorization", "auth_value": "Bearer s3cret",
        "params": {"lang": "fa"}, "success_json_path": "result.ok", "success_value": True,
        "message_id_json_path": "result.id",
    })
    with app.app_context():
        messaging.send_sms("۰۹۱۲ ۳۴۵ ۶۷۸۹", "کد تأیید شما: ۱۲۳۴", customer_key="c:1")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 1
        log = only_log()
        assert (log.to, log.status, log.provider_id) == ("+989123456789", "sent", "9876")
    [req] = http_gateway.requests
    assert (req.method, req.path) == ("POST", "/send")
    assert req.headers["Authorization"] == "Bearer s3cret"
    assert req.form == {"lang": "fa", "mobile": "09123456789", "body": "کد تأیید شما: ۱۲۳۴",
                        "line": "3000123"}


def test_generic_gateway_get_with_api_key_and_substring_test(app, http_gateway):
    http_gateway.respond = lambda req: (200, "STATUS=QUEUED")
    configure(app, "generic", {"url": http_gateway.url + "/api?x=1", "method": "GET",
                               "api_key_param": "key", "api_key": "k-1",
                               "success_substring": "QUEUED"})
    with app.app_context():
        messaging.send_sms("+989121112233", "hello")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 1
    [req] = http_gateway.requests
    assert req.query == {"x": "1", "key": "k-1", "to": "+989121112233", "text": "hello"}


def test_generic_gateway_json_body(app, http_gateway):
    http_gateway.respond = lambda req: (201, "{}")
    configure(app, "generic", {"url": http_gateway.url, "body": "json", "success_status": [201],
                               "to_format": "plain"})
    with app.app_context():
        messaging.send_sms("09121112233", "سلام")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 1
    assert http_gateway.requests[0].json == {"to": "989121112233", "text": "سلام"}


def test_kavenegar_style_provider(app, http_gateway):
    def kavenegar(req):
        return 200, {"return": {"status": 200, "message": "تایید شد"},
                     "entries": [{"messageid": 8792343, "status": 5, "receptor": "09123456789"}]}

    http_gateway.respond = kavenegar
    configure(app, "kavenegar", {"api_key": "MYKEY", "sender": "10004346",
                                 "base_url": http_gateway.url})
    with app.app_context():
        messaging.send_sms("+989123456789", "پیام آزمایشی")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 1
        assert only_log().provider_id == "8792343"
    [req] = http_gateway.requests
    assert (req.method, req.path) == ("POST", "/v1/MYKEY/sms/send.json")
    assert req.form == {"receptor": "09123456789", "message": "پیام آزمایشی", "sender": "10004346"}


def test_kavenegar_refusal_is_reported_in_words(app, http_gateway):
    answer = {"return": {"status": 418, "message": "اعتبار کافی نیست"}, "entries": None}
    http_gateway.respond = lambda req: (418, answer)
    configure(app, "kavenegar", {"api_key": "K", "base_url": http_gateway.url})
    with app.app_context():
        message = messaging.send_sms("09123456789", "x")
        db.session.commit()
        outbox.relay_once()
        message = db.session.get(outbox.OutboxMessage, message.id)
        assert "Kavenegar refused the message (status 418): اعتبار کافی نیست" in message.last_error


def test_failing_gateway_retries_dies_and_admin_retry_delivers(app, http_gateway, make_user,
                                                               login, client):
    http_gateway.respond = lambda req: (503, "maintenance")
    configure(app, "generic", {"url": http_gateway.url})
    with app.app_context():
        message = messaging.send_sms("09123456789", "ممکن است دیر برسد")
        db.session.commit()
        now, seen = utcnow(), []
        for _ in range(3):
            outbox.relay_once(now=now)
            db.session.expire_all()
            current = db.session.get(outbox.OutboxMessage, message.id)
            seen.append((current.status, current.attempts))
            now = current.next_attempt_at.replace(tzinfo=now.tzinfo) + timedelta(seconds=1)
        assert seen == [("pending", 1), ("pending", 2), ("dead", 3)]
        assert "HTTP 503: maintenance" in current.last_error
        log = only_log()
        assert log.status == "failed" and "HTTP 503" in log.error
        assert len(http_gateway.requests) == 3

    http_gateway.respond = lambda req: (200, "OK")
    make_user("admin@example.ir", role="admin")
    login("admin@example.ir")
    page = client.get("/admin/outbox/")
    assert page.status_code == 200
    assert "HTTP 503: maintenance" in page.get_data(as_text=True)
    response = client.post(f"/admin/outbox/{message.id}/retry",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    with app.app_context():  # inline mode: the relay ran right after the retry committed
        current = db.session.get(outbox.OutboxMessage, message.id)
        assert current.status == "delivered" and current.attempts == 1
        assert only_log().status == "sent"
    assert len(http_gateway.requests) == 4


def test_opted_out_number_is_suppressed(app, http_gateway):
    configure(app, "generic", {"url": http_gateway.url})
    with app.app_context():
        messaging.opt_out("sms", "0912-345-6789", reason="لغو ۱۱")
        db.session.commit()
        assert messaging.is_opted_out("sms", "+98 912 345 6789")
        assert messaging.send_sms("۰۰۹۸۹۱۲۳۴۵۶۷۸۹", "تخفیف ویژه") is None
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(outbox.OutboxMessage)) == 0
        log = only_log()
        assert (log.status, log.to) == ("suppressed", "+989123456789")
        assert messaging.opt_in("sms", "09123456789")
        assert messaging.send_sms("09123456789", "again") is not None


def test_no_gateway_configured_says_so(app):
    with app.app_context():
        message = messaging.send_sms("09123456789", "x")
        db.session.commit()
        outbox.relay_once()
        error = db.session.get(outbox.OutboxMessage, message.id).last_error
        assert "SMS is not configured" in error


def test_a_bad_number_is_refused_at_send_time(app):
    with app.app_context(), pytest.raises(ValueError, match="not an Iranian mobile number"):
        messaging.send_sms("12345", "x")


def test_delivery_report_marks_the_message_delivered(app, http_gateway, client):
    http_gateway.respond = lambda req: (200, json.dumps({"id": "m-77"}))
    configure(app, "generic", {"url": http_gateway.url, "message_id_json_path": "id",
                               "dlr_token": "tok"})
    with app.app_context():
        messaging.send_sms("09123456789", "x")
        db.session.commit()
        outbox.relay_once()
    assert client.post("/messaging/sms/report?token=wrong", data={"id": "m-77"}).status_code == 404
    response = client.post("/messaging/sms/report?token=tok",
                           data={"id": "m-77", "status": "DELIVERED"})
    assert response.status_code == 200 and response.json["status"] == "delivered"
    with app.app_context():
        assert only_log().status == "delivered"


@given(st.from_regex(r"9[0-9]{9}", fullmatch=True))
def test_number_formats_round_trip(rest):
    canonical = "+98" + rest
    assert format_number(canonical, "international") == canonical
    assert "+" + format_number(canonical, "plain") == canonical
    assert "+98" + format_number(canonical, "local")[1:] == canonical


def test_json_path():
    data = {"return": {"status": 200}, "entries": [{"messageid": 5}]}
    assert json_path(data, "return.status") == 200
    assert json_path(data, "entries.0.messageid") == 5
    assert json_path(data, "entries.3.messageid") is None
    assert json_path(None, "a") is None


def test_an_opt_out_reply_stops_sms_to_that_number(app, client):
    from core.customers.services import create_customer
    from core.messaging import is_opted_out, send_sms

    with app.test_request_context():
        set_setting("sms.config", {"inbound_token": "in-secret"})
        customer = create_customer(display_name="مینا", mobiles=["09121112233"])
        customer.consent_sms = True
        db.session.commit()
        customer_id = customer.id

    assert client.post("/messaging/sms/inbound?token=wrong",
                       data={"from": "09121112233", "message": "لغو"}).status_code == 404
    kept = client.post("/messaging/sms/inbound?token=in-secret",
                       data={"from": "09121112233", "message": "سلام، ممنون"})
    assert kept.get_json() == {"ok": True, "opted_out": False}
    stop = client.post("/messaging/sms/inbound?token=in-secret",
                       data={"from": "+98 912 111 2233", "message": " لغو ۱۱ "})
    assert stop.get_json() == {"ok": True, "opted_out": True}

    from core.customers.models import Customer

    with app.app_context():
        assert is_opted_out("sms", "09121112233")
        assert db.session.get(Customer, customer_id).consent_sms is False
        assert send_sms("09121112233", "تخفیف ویژه") is None  # suppressed from now on
