"""Email in and out against real servers: dovecot (IMAP) for the mailbox, aiosmtpd for SMTP.

Mail in → ticket (Persian subject decoded, customer created), the agent's reply goes out with
[T-…] and In-Reply-To, the customer's answer threads back, polling twice never duplicates.
"""

import email.policy
from email.header import Header
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select

from core import outbox
from core.extensions import db
from tests.conftest import require_service
from tests.core.messaging.servers import SmtpServer
from tests.modules.service import imap_server
from tests.modules.service.imap_server import ImapServer

SUPPORT = "support@peyvand.test"


@pytest.fixture
def imap():
    require_service("dovecot (IMAP server)", imap_server.available(),
                    "install dovecot-imapd (Debian) so the tests can start a local IMAP server")
    server = ImapServer().start()
    yield server
    server.stop()


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(app, imap, smtp):
    """The deployment reads ``imap`` as its support mailbox and sends through ``smtp``."""
    from core.database import set_setting

    with app.app_context():
        for key, value in {"host": smtp.host, "port": smtp.port, "tls": "none",
                           "from": f"پشتیبانی پیوند <{SUPPORT}>"}.items():
            set_setting(f"smtp.{key}", value)
        for key, value in {"host": imap.host, "port": imap.port, "security": "none",
                           "username": imap.user, "password": imap.password,
                           "address": SUPPORT}.items():
            set_setting(f"service.mailbox.{key}", value)
        db.session.commit()
    return imap


def customer_mail(subject, body, *, sender="علی رضایی <ali@example.ir>", headers=None):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.ir")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg


def poll(runner):
    result = runner.invoke(args=["crm", "service", "poll-mail"])
    assert result.exit_code == 0, result.output
    return result.output


def counts(app):
    from modules.service.models.tickets import InboundMail, Message, Ticket

    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Ticket, Message, InboundMail))


def relay(app):
    with app.app_context():
        outbox.relay_once()


def test_mail_in_reply_out_and_the_answer_threads_back(app, runner, mailbox, smtp, make_user):
    from core.customers.models import Customer
    from modules.service.models.tickets import InboundMail, Message, Ticket
    from modules.service.tickets import add_message

    first = customer_mail("خرابی یخچال", "یخچال من از دیروز خنک نمی‌کند.")
    mailbox.deliver(first.as_bytes())
    assert "new: 1" in poll(runner)
    assert counts(app) == (1, 1, 1)
    assert "\\Seen" in mailbox.flags(mailbox.uids()[0])
    with app.app_context():
        ticket = db.session.execute(select(Ticket)).scalar_one()
        assert ticket.subject == "خرابی یخچال"  # the encoded words decoded
        assert ticket.channel == "email" and ticket.status == "new"
        assert ticket.email_thread == first["Message-ID"]
        assert ticket.reply_to == "ali@example.ir"
        customer = db.session.get(Customer, ticket.customer_id)
        assert customer.display_name == "علی رضایی" and customer.email == "ali@example.ir"
        [message] = ticket.messages
        assert message.kind == "customer" and message.body == "یخچال من از دیروز خنک نمی‌کند."
        reference = ticket.reference
        ticket_id = ticket.id

    # the customer is told the reference at once
    relay(app)
    [ack] = smtp.wait_for(1)
    assert ack.rcpt_tos == ["ali@example.ir"]
    assert ack.message["Subject"] == f"[{reference}] خرابی یخچال"
    assert ack.message["In-Reply-To"] == first["Message-ID"]
    assert ack.message["Auto-Submitted"] == "auto-replied"

    # polling again, and the same mail delivered twice, change nothing
    poll(runner)
    mailbox.deliver(first.as_bytes())
    assert "duplicate: 1" in poll(runner)
    assert counts(app) == (1, 1, 1)

    # the agent answers: the mail carries the reference and threads under the customer's mail
    agent_id = make_user("agent@peyvand.test", role="agent", seats=["service"])
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        reply = add_message(ticket, "public", "لطفاً دستگاه را ده دقیقه خاموش کنید.",
                            by=agent_id)
        db.session.commit()
        reply_id = reply.id
    relay(app)
    answer = smtp.wait_for(2)[1].message
    assert answer["Subject"] == f"[{reference}] خرابی یخچال"
    assert answer["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in answer["References"]
    assert answer["Reply-To"] == SUPPORT
    text = answer.get_body(preferencelist=("plain",)).get_content()
    assert "لطفاً دستگاه را ده دقیقه خاموش کنید." in text and reference in text
    with app.app_context():
        assert db.session.get(Message, reply_id).email_message_id == answer["Message-ID"]

    # the customer answers from their mail client (quoting the agent): same ticket
    back = customer_mail(
        "Re: " + answer["Subject"],
        "خاموش کردم ولی هنوز گرم است.\n\nOn Tue, 3 Nov 2026, پشتیبانی <support@peyvand.test> "
        "wrote:\n> لطفاً دستگاه را ده دقیقه خاموش کنید.",
        headers={"In-Reply-To": answer["Message-ID"],
                 "References": f"{first['Message-ID']} {answer['Message-ID']}"})
    mailbox.deliver(back.as_bytes())
    assert "reply: 1" in poll(runner)
    poll(runner)
    assert counts(app) == (1, 3, 2)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        last = ticket.messages[-1]
        assert (last.kind, last.channel, last.email_message_id) == (
            "customer", "email", back["Message-ID"])
        assert last.body == "خاموش کردم ولی هنوز گرم است."  # the quoted history dropped
        assert ticket.status == "open"
        outcomes = sorted(db.session.execute(select(InboundMail.outcome)).scalars())
        assert outcomes == ["new", "reply"]
    assert len(smtp.messages) == 2  # a reply is not acknowledged again
    with app.app_context():
        from core.audit import AuditLog

        # the mailbox position is bookkeeping: polling every minute does not flood the audit
        targets = set(db.session.execute(select(AuditLog.target)).scalars())
        assert not targets & {"core_setting:service.mailbox.state",
                              "core_setting:service.mailbox.status"}
        assert f"service_ticket:{ticket_id}" in targets  # the ticket itself is audited


def test_reference_only_in_subject_threads_and_closed_ticket_opens_a_new_one(
        app, runner, mailbox, smtp):
    from modules.service.models.tickets import Ticket
    from modules.service.tickets import change_status

    mailbox.deliver(customer_mail("سفارش ۱۲", "سفارشم نرسیده.").as_bytes())
    poll(runner)
    with app.app_context():
        ticket = db.session.execute(select(Ticket)).scalar_one()
        reference, ticket_id = ticket.reference, ticket.id
    # written from another address of the same person, new mail but with the reference
    mailbox.deliver(customer_mail(f"پاسخ: [{reference}] سفارش", "کد رهگیری چیست؟",
                                  sender="Ali <ali.work@example.ir>").as_bytes())
    poll(runner)
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert [m.body for m in ticket.messages] == ["سفارشم نرسیده.", "کد رهگیری چیست؟"]
        change_status(ticket, "closed")
        db.session.commit()
    # a reply to the closed ticket opens a new one for the same customer, pointing back
    mailbox.deliver(customer_mail(f"Re: [{reference}] سفارش ۱۲", "باز هم نرسید!").as_bytes())
    poll(runner)
    with app.app_context():
        old, new = db.session.execute(select(Ticket).order_by(Ticket.id)).scalars()
        assert new.customer_id == old.customer_id and new.subject == "سفارش ۱۲"
        assert [m.kind for m in new.messages] == ["customer", "internal"]
        assert reference in new.messages[1].body
        assert new.reference in old.messages[-1].body and old.status == "closed"


def test_other_customer_auto_replies_and_broken_mails(app, runner, mailbox, smtp):
    from core.customers.services import create_customer
    from modules.service.models.tickets import InboundMail, Ticket

    with app.app_context():
        create_customer(display_name="مریم احمدی", emails=["maryam@example.ir"])
        db.session.commit()
    first = customer_mail("گارانتی", "کارت گارانتی گم شده.")
    mailbox.deliver(first.as_bytes())
    poll(runner)
    with app.app_context():
        reference = db.session.execute(select(Ticket)).scalar_one().reference
    # a known other customer quoting the reference and the thread gets a ticket of her own
    intruder = customer_mail(f"Re: [{reference}] گارانتی", "من هم همین مشکل را دارم.",
                             sender="maryam@example.ir",
                             headers={"In-Reply-To": first["Message-ID"]})
    out_of_office = customer_mail(f"Re: [{reference}] گارانتی", "تا شنبه در سفرم.",
                                  headers={"Auto-Submitted": "auto-replied"})
    bounce = customer_mail("Undelivered Mail", "550 no such user",
                           sender="MAILER-DAEMON@mx.example.ir")
    loop = customer_mail("[T-000001] our own mail", "x", sender=SUPPORT)
    for msg in (intruder, out_of_office, bounce, loop):
        mailbox.deliver(msg.as_bytes())
    mailbox.deliver(b"\xff\xfe not a mail at all \x00\x01")
    app.config["SERVICE_MAIL_MAX_BYTES"] = 50_000
    mailbox.deliver(customer_mail("big", "x" * 80_000).as_bytes())
    output = poll(runner)
    assert output.strip().endswith("auto: 2, loop: 1, new: 1, refused: 1, too_large: 1")
    with app.app_context():
        tickets = list(db.session.execute(select(Ticket).order_by(Ticket.id)).scalars())
        assert len(tickets) == 2
        assert len(tickets[0].messages) == 1  # nothing threaded into Ali's ticket
        mine = next(t for t in tickets if t.reply_to == "maryam@example.ir")
        assert mine.id != tickets[0].id
        outcomes = dict(db.session.execute(
            select(InboundMail.message_id, InboundMail.outcome)).all())
        assert outcomes[intruder["Message-ID"]] == "new"
        assert outcomes[out_of_office["Message-ID"]] == "auto"
        assert outcomes[bounce["Message-ID"]] == "auto"
        assert outcomes[loop["Message-ID"]] == "loop"
        assert sorted(outcomes.values()) == ["auto", "auto", "loop", "new", "new", "refused",
                                             "too_large"]
    # every mail was read once: the next poll finds nothing
    assert "no new mail" in poll(runner)
    assert set(mailbox.uids()) and all("\\Seen" in mailbox.flags(u) for u in mailbox.uids())


def test_persian_encoded_subject_from_a_raw_mail(app, runner, mailbox, smtp):
    from modules.service.models.tickets import Ticket

    subject = Header("درخواست تعمیر ماشین لباسشویی", "utf-8").encode()
    raw = (f"From: =?utf-8?b?2LHYttinINqp2LHbjNmF24w=?= <reza@example.ir>\r\n"
           f"To: {SUPPORT}\r\nSubject: {subject}\r\nMessage-ID: <raw-1@example.ir>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n")
    import base64

    raw += base64.encodebytes("<p>لطفاً تکنسین بفرستید.</p>".encode()).decode()
    mailbox.deliver(raw)
    poll(runner)
    with app.app_context():
        ticket = db.session.execute(select(Ticket)).scalar_one()
        assert ticket.subject == "درخواست تعمیر ماشین لباسشویی"
        assert ticket.messages[0].body == "لطفاً تکنسین بفرستید."
    relay(app)
    [ack] = smtp.wait_for(1)
    parsed = email.message_from_bytes(ack.raw, policy=email.policy.default)
    assert parsed["Subject"] == f"[{ticket.reference}] درخواست تعمیر ماشین لباسشویی"


def test_two_pollers_at_once_make_each_ticket_once(app, mailbox, smtp):
    import threading

    from modules.service.mail_poll import poll as poll_once
    from modules.service.models.tickets import InboundMail

    for n in range(4):
        mailbox.deliver(customer_mail(f"درخواست {n}", f"متن {n}",
                                      sender=f"c{n}@example.ir").as_bytes())
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait(10)
                results.append(poll_once())
                db.session.remove()
        except Exception as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert [r.error for r in results] == [None, None]
    assert sum(r.counts.get("new", 0) for r in results) == 4
    assert counts(app) == (4, 4, 4)
    with app.app_context():
        assert sorted(db.session.execute(select(InboundMail.outcome)).scalars()) == ["new"] * 4


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_mailbox_is_read_and_an_untrusted_certificate_refused(app, runner, smtp, security,
                                                                  monkeypatch):
    from core.database import set_setting
    from modules.service.mail_poll import poll as poll_once

    require_service("dovecot (IMAP server)", imap_server.available(),
                    "install dovecot-imapd (Debian) so the tests can start a local IMAP server")
    server = ImapServer(tls=True).start()
    try:
        with app.app_context():
            for key, value in {"host": "localhost", "security": security,
                               "port": server.ssl_port if security == "ssl" else server.port,
                               "username": server.user, "password": server.password}.items():
                set_setting(f"service.mailbox.{key}", value)
            db.session.commit()
        server.deliver(customer_mail("امن", "از راه TLS").as_bytes())
        with app.app_context():
            refused = poll_once()
        assert refused.error and "certificate" in refused.error.lower()
        assert counts(app)[0] == 0
        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_path))  # trust the test CA
        assert "new: 1" in poll(runner)
        assert counts(app)[0] == 1
    finally:
        server.stop()
