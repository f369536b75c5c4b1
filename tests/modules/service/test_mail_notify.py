"""Public replies reach the customer: email with the reference, or SMS when there is no email."""

import pytest
from sqlalchemy import select

from core import outbox
from core.database import set_setting
from core.extensions import db
from core.messaging import MessageLog, opt_out
from tests.core.messaging.servers import HttpGateway, SmtpServer


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    with app.app_context():
        for key, value in {"host": server.host, "port": server.port, "tls": "none",
                           "from": "پشتیبانی <support@peyvand.test>"}.items():
            set_setting(f"smtp.{key}", value)
        db.session.commit()
    yield server
    server.stop()


@pytest.fixture
def sms(app):
    gateway = HttpGateway().start()
    with app.app_context():
        set_setting("sms.provider", "generic")
        set_setting("sms.config", {"url": gateway.url + "/send", "method": "POST"})
        db.session.commit()
    yield gateway
    gateway.stop()


def ticket_for(customer_fields, **ticket_fields):
    from core.customers.services import create_customer
    from modules.service.tickets import create_ticket

    customer = create_customer(**customer_fields)
    ticket = create_ticket(customer=customer, subject="نصب کولر", body="کی می‌آیید؟",
                           **ticket_fields)
    db.session.commit()
    return ticket


def test_portal_ticket_answered_by_email_starts_a_thread(app, smtp):
    from modules.service.tickets import add_message

    with app.app_context():
        ticket = ticket_for({"display_name": "سارا", "emails": ["sara@example.ir"],
                             "mobiles": ["09121234567"]}, channel="portal")
        first = add_message(ticket, "public", "فردا ساعت ۱۰.")
        db.session.commit()
        second = add_message(ticket, "public", "تکنسین در راه است.")
        db.session.commit()
        ids = (first.email_message_id, second.email_message_id)
        reference = ticket.reference
        outbox.relay_once()
    one, two = smtp.wait_for(2)
    assert one.rcpt_tos == ["sara@example.ir"]
    assert one.message["Subject"] == f"[{reference}] نصب کولر"
    assert (one.message["Message-ID"], two.message["Message-ID"]) == ids
    assert one.message["In-Reply-To"] is None  # nothing came by email yet
    assert two.message["In-Reply-To"] == ids[0]  # the second reply follows the first
    assert "فردا ساعت ۱۰." in one.message.get_body(("plain",)).get_content()


def test_customer_with_only_a_mobile_gets_an_sms_with_the_reference(app, sms):
    from modules.service.tickets import add_message

    with app.app_context():
        ticket = ticket_for({"display_name": "رضا", "mobiles": ["0912 765 4321"]},
                            channel="phone")
        message = add_message(ticket, "public", "قطعه رسید؛ فردا نصب می‌شود.")
        db.session.commit()
        assert message.channel == "sms" and message.email_message_id is None
        reference = ticket.reference
        outbox.relay_once()
    [request] = sms.requests
    assert request.form["to"] in ("+989127654321", "989127654321", "09127654321")
    assert reference in request.form["text"]
    assert "قطعه رسید؛ فردا نصب می‌شود." in request.form["text"]


def test_long_sms_is_cut_and_points_to_the_portal(app, sms):
    from modules.service.notify import SMS_LIMIT
    from modules.service.tickets import add_message

    with app.app_context():
        ticket = ticket_for({"display_name": "رضا", "mobiles": ["09127654321"]})
        add_message(ticket, "public", "متن بلند " * 100)
        db.session.commit()
        outbox.relay_once()
    [request] = sms.requests
    assert len(request.form["text"]) <= SMS_LIMIT


def test_opted_out_customer_gets_nothing_and_the_log_says_so(app, smtp):
    from modules.service.tickets import add_message

    with app.app_context():
        ticket = ticket_for({"display_name": "نگار", "emails": ["negar@example.ir"]},
                            channel="email")
        opt_out("email", "negar@example.ir")
        add_message(ticket, "public", "پاسخ")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 0
        log = db.session.execute(select(MessageLog)).scalar_one()
        assert log.status == "suppressed" and log.customer_key == f"customer:{ticket.customer_id}"
    assert smtp.messages == []


def test_internal_notes_and_customers_without_contacts_send_nothing(app, smtp):
    from modules.service.tickets import add_message

    with app.app_context():
        ticket = ticket_for({"display_name": "بی‌نشانی"})
        add_message(ticket, "internal", "یادداشت داخلی")
        add_message(ticket, "public", "پاسخ")
        db.session.commit()
        assert db.session.execute(select(MessageLog)).first() is None
