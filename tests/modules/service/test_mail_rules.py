"""Threading rules of inbound mail (``mail.process`` on raw mails, no server needed)."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import func, select

from core.extensions import db

SUPPORT = "support@peyvand.test"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def raw_mail(subject, body, *, sender="Ali <ali@example.ir>", headers=None, files=()):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.ir")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, data, (maintype, subtype) in files:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def process(msg):
    from modules.service.mail import process as run

    row = run(msg.as_bytes())
    db.session.commit()
    return row


def tickets():
    from modules.service.models.tickets import Ticket

    return list(db.session.execute(select(Ticket).order_by(Ticket.id)).scalars())


def test_existing_customer_is_found_by_any_of_their_emails(app):
    from core.customers.models import Customer
    from core.customers.services import create_customer

    with app.app_context():
        known = create_customer(display_name="شرکت آلفا", kind="organisation",
                                legal_name="شرکت آلفا",
                                emails=["info@alfa.ir", "ali@example.ir"])
        db.session.commit()
        row = process(raw_mail("سلام", "متن", sender="ALI@Example.IR"))
        assert row.outcome == "new"
        [ticket] = tickets()
        assert ticket.customer_id == known.id
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1


def test_unknown_sender_without_a_name_gets_a_customer_named_after_the_address(app):
    from core.customers.models import Customer

    with app.app_context():
        process(raw_mail("x", "y", sender="reza.k@example.ir"))
        customer = db.session.execute(select(Customer)).scalar_one()
        assert customer.display_name == "reza.k" and customer.email == "reza.k@example.ir"
        assert customer.source == "email"


def test_a_reply_to_a_merged_ticket_goes_to_the_surviving_ticket(app):
    from modules.service.tickets import merge_tickets

    with app.app_context():
        first = raw_mail("خرابی", "اول")
        process(first)
        process(raw_mail("خرابی دوباره", "دوم"))
        loser, survivor = tickets()
        merge_tickets(loser, survivor)
        db.session.commit()
        row = process(raw_mail("Re: خرابی", "سوم", headers={"In-Reply-To": first["Message-ID"]}))
        assert (row.outcome, row.ticket_id) == ("reply", survivor.id)
        assert "سوم" in [m.body for m in survivor.messages]
        assert len(tickets()) == 2


def test_a_sender_unknown_to_the_crm_may_answer_a_thread(app):
    with app.app_context():
        first = raw_mail("سفارش", "اول")
        process(first)
        row = process(raw_mail("Re: سفارش", "از طرف همکارم", sender="colleague@example.ir",
                               headers={"References": first["Message-ID"]}))
        [ticket] = tickets()
        assert (row.outcome, row.ticket_id) == ("reply", ticket.id)


def test_an_unknown_reference_opens_a_new_ticket(app):
    with app.app_context():
        row = process(raw_mail("Re: [T-999999] قدیمی", "پیگیری"))
        [ticket] = tickets()
        assert row.outcome == "new" and ticket.subject == "قدیمی"


def test_an_address_the_crm_refuses_is_recorded_not_crashed(app):
    with app.app_context():
        row = process(raw_mail("x", "y", sender="root@localhost"))
        assert row.outcome == "refused" and tickets() == []


def test_empty_subject_and_body_still_make_a_ticket(app):
    with app.app_context():
        process(raw_mail("", ""))
        [ticket] = tickets()
        assert ticket.subject and ticket.messages[0].body


def test_attachments_are_kept_and_lying_files_refused_with_a_note(app):
    pytest.importorskip("modules.service.attachments")
    with app.app_context():
        process(raw_mail("عکس", "عکس خرابی پیوست است.", files=[
            ("photo.png", PNG, ("image", "png")),
            ("invoice.pdf", PNG, ("application", "pdf")),  # a PNG named .pdf
        ]))
        [ticket] = tickets()
        first = ticket.messages[0]
        assert [a.filename for a in first.attachments] == ["photo.png"]
        note = ticket.messages[-1]
        assert note.kind == "internal" and "invoice.pdf" in note.body


def test_a_colleague_at_the_customers_organisation_threads_but_a_stranger_does_not(app):
    from core.customers.services import affiliate, create_customer

    with app.app_context():
        org = create_customer(kind="organisation", legal_name="شرکت بتا",
                              emails=["info@beta.ir"])
        buyer = create_customer(display_name="سعید", emails=["saeed@beta.ir"])
        stranger = create_customer(display_name="غریبه", emails=["x@other.ir"])
        affiliate(buyer, org, "خرید")
        db.session.commit()
        first = raw_mail("سفارش عمده", "پیش‌فاکتور بفرستید.", sender="info@beta.ir")
        process(first)
        [ticket] = tickets()
        row = process(raw_mail("Re: سفارش عمده", "من پیگیری می‌کنم.", sender="saeed@beta.ir",
                               headers={"In-Reply-To": first["Message-ID"]}))
        assert (row.outcome, row.ticket_id) == ("reply", ticket.id)
        row = process(raw_mail(f"Re: [{ticket.reference}]", "سلام", sender="x@other.ir"))
        assert row.outcome == "new" and row.ticket_id != ticket.id
        assert db.session.get(type(ticket), row.ticket_id).customer_id == stranger.id


def test_anonymising_the_customer_forgets_the_sender_addresses(app):
    from core.customers.anonymise import anonymise_customer
    from core.customers.models import Customer
    from modules.service.models.tickets import InboundMail

    with app.app_context():
        process(raw_mail("سلام", "متن"))
        customer = db.session.execute(select(Customer)).scalar_one()
        anonymise_customer(customer)
        db.session.commit()
        assert db.session.execute(select(InboundMail.sender)).scalars().all() == [""]
