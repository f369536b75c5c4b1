"""Email over a real SMTP server (aiosmtpd on 127.0.0.1), through the outbox."""

from sqlalchemy import select

from core import messaging, outbox
from core.database import set_setting
from core.extensions import db
from core.messaging import MessageLog
from core.messaging.email import smtp_settings


def test_persian_email_with_html_text_attachment_and_headers(app, use_smtp):
    with app.app_context():
        message = messaging.send_email(
            "Customer@Example.ir", "فاکتور شماره ۱۲ شما آماده است",
            text="سلام علی،\nفاکتور شما پیوست است.",
            html="<p>سلام <b>علی</b>، فاکتور شما پیوست است.</p>",
            attachments=[("invoice-12.pdf", b"%PDF-1.4 test", "application/pdf")],
            reply_to="sales@peyvand.test",
            headers={"List-Unsubscribe": "<https://crm.test/u/abc>",
                     "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
            customer_key="customer:12", language="fa",
        )
        db.session.commit()
        assert use_smtp.messages == []  # nothing leaves before the relay runs
        assert outbox.relay_once()["delivered"] == 1
        log = db.session.scalar(select(MessageLog))
        assert (log.status, log.customer_key, log.outbox_id) == ("sent", "customer:12", message.id)

    [received] = use_smtp.wait_for(1)
    mail = received.message
    assert received.rcpt_tos == ["Customer@Example.ir"]
    assert mail["Subject"] == "فاکتور شماره ۱۲ شما آماده است"
    assert b"=?utf-8?" in received.raw.split(b"\r\n\r\n")[0].lower()  # header RFC 2047-encoded
    assert mail["Message-ID"] == log.provider_id and mail["Message-ID"].endswith("@peyvand.test>")
    assert mail["Reply-To"] == "sales@peyvand.test"
    assert mail["List-Unsubscribe"] == "<https://crm.test/u/abc>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "crm@peyvand.test" in mail["From"]
    assert mail.get_content_type() == "multipart/mixed"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "فاکتور شما پیوست است" in text
    assert 'dir="rtl"' in html and 'lang="fa"' in html and "Vazirmatn" in html
    assert "<b>علی</b>" in html
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == "invoice-12.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"


def test_text_only_email_gets_an_escaped_ltr_html_part(app, use_smtp):
    with app.app_context():
        messaging.send_email(["a@example.com", "b@example.com"], "Hello",
                             text="Line <1>\nLine 2\n\nNext paragraph", language="en")
        db.session.commit()
        outbox.relay_once()
    [received] = use_smtp.wait_for(1)
    assert received.rcpt_tos == ["a@example.com", "b@example.com"]
    html = received.message.get_body(preferencelist=("html",)).get_content()
    assert 'dir="ltr"' in html
    assert "Line &lt;1&gt;<br>Line 2" in html and "<p>Next paragraph</p>" in html


def test_app_config_is_the_fallback_for_smtp_settings(smtp_server, app):
    app.config.update(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port,
                      MAIL_FROM="Fallback <fallback@peyvand.test>")
    with app.app_context():
        messaging.send_email("x@example.com", "Fallback", text="via MAIL_*")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 1
    [received] = smtp_server.wait_for(1)
    assert "fallback@peyvand.test" in received.message["From"]


def test_unconfigured_smtp_fails_with_a_plain_reason(app):
    with app.app_context():
        message = messaging.send_email("x@example.com", "No server", text="...")
        db.session.commit()
        outbox.relay_once()
        message = db.session.get(outbox.OutboxMessage, message.id)
        assert message.status == "pending"
        assert "email is not configured" in message.last_error
        log = db.session.scalar(select(MessageLog))
        assert log.status == "queued" and "email is not configured" in log.error


def test_opted_out_email_is_suppressed(app, use_smtp):
    with app.app_context():
        assert messaging.opt_out("email", " Someone@Example.com ", reason="unsubscribed")
        assert not messaging.opt_out("email", "someone@example.com")  # already out
        db.session.commit()
        assert messaging.send_email("SOMEONE@example.com", "Offer", text="...") is None
        partial = messaging.send_email(["someone@example.com", "other@example.com"], "Offer",
                                       text="...")
        db.session.commit()
        assert partial.payload["to"] == ["other@example.com"]
        statuses = sorted(db.session.scalars(select(MessageLog.status)))
        assert statuses == ["queued", "suppressed", "suppressed"]
        outbox.relay_once()
    [received] = use_smtp.wait_for(1)
    assert received.rcpt_tos == ["other@example.com"]


def test_smtp_settings_from_the_deployment_win_over_config(app):
    with app.app_context():
        set_setting("smtp.host", "mail.example.ir")
        set_setting("smtp.tls", "ssl")
        settings = smtp_settings()
        assert (settings.host, settings.security, settings.port) == ("mail.example.ir", "ssl", 465)


def test_one_relay_pass_sends_its_emails_over_one_connection(app, use_smtp):
    with app.app_context():
        for n in range(3):
            messaging.send_email(f"c{n}@example.ir", "خبرنامه", text=f"شماره {n}")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 3
        messaging.send_email("c9@example.ir", "خبرنامه", text="بعدی")
        db.session.commit()
        assert outbox.relay_once()["delivered"] == 1

    received = use_smtp.wait_for(4)
    assert sorted(m.rcpt_tos[0] for m in received) == [
        "c0@example.ir", "c1@example.ir", "c2@example.ir", "c9@example.ir"]
    first_pass = {m.peer for m in received if m.rcpt_tos[0] != "c9@example.ir"}
    assert len(first_pass) == 1  # one connection for the whole pass
    assert {m.peer for m in received if m.rcpt_tos[0] == "c9@example.ir"} != first_pass


def test_a_refused_message_does_not_spoil_the_connection_for_the_next(app, use_smtp):
    with app.app_context():
        messaging.send_email("good1@example.ir", "s", text="t")
        messaging.send_email("bad@example.ir", "s", text="t")
        messaging.send_email("good2@example.ir", "s", text="t")
        db.session.commit()
        use_smtp.refuse = {"bad@example.ir"}
        counts = outbox.relay_once()
        assert (counts["delivered"], counts["retry"]) == (2, 1)
    assert sorted(m.rcpt_tos[0] for m in use_smtp.wait_for(2)) == [
        "good1@example.ir", "good2@example.ir"]
