"""Support mailbox: a mail to the support address becomes a ticket, replies thread back.

``process(raw)`` handles one RFC 822 mail (the polling job and tests call it):

- each Message-ID once (``service_inbound_mail`` is unique), so polling twice changes nothing;
- automatic mails (auto-replies, bounces, bulk) and our own mails are recorded, not ticketed;
- a mail answering a ticket (In-Reply-To/References know one of its mails, or ``[T-000123]`` in
  the subject) becomes a customer message on it, unless the sender is another known customer;
- a reply to a closed ticket opens a new ticket that refers to the old one;
- anything else opens a new email ticket for the customer with that address (created when
  unknown) and acknowledges it with the reference.

The IMAP side (``mail_poll.poll``) runs every ``SERVICE_MAIL_POLL_SECONDS`` and from
``flask crm service poll-mail``.
"""

import logging
import re
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core.customers.models import Affiliation, ContactPoint, Customer
from core.customers.services import CustomerError
from core.extensions import db
from modules.service import notify
from modules.service.mail_parse import ParsedMail, parse, ticket_reference
from modules.service.mailbox import mailbox_settings
from modules.service.models.tickets import InboundMail, Message, Ticket
from modules.service.tickets import TicketError, add_message, create_ticket

log = logging.getLogger(__name__)
REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|پاسخ|ارسال)\s*[:：]\s*)+", re.IGNORECASE)


def find_customer(address: str) -> Customer | None:
    """The (oldest) customer with this email among their contacts."""
    if not address:
        return None
    return db.session.execute(
        select(Customer).join(ContactPoint, ContactPoint.customer_id == Customer.id)
        .where(ContactPoint.kind == "email", ContactPoint.value == address.lower(),
               Customer.anonymised_at.is_(None))
        .order_by(Customer.id).limit(1)).unique().scalar()


def customer_for(mail: ParsedMail) -> Customer:
    """The sender's customer record, created (a person) when the address is new."""
    from core.customers.services import create_customer

    customer = find_customer(mail.from_address)
    if customer is None:
        name = mail.from_name or mail.from_address.partition("@")[0]
        customer = create_customer(kind="person", display_name=name[:200],
                                   emails=[mail.from_address], source="email")
    return customer


def _follow_merges(ticket: Ticket) -> Ticket:
    for _step in range(10):
        if ticket.merged_into_id is None:
            break
        ticket = db.session.get(Ticket, ticket.merged_into_id) or ticket
    return ticket


def _same_party(sender_id: int, owner_id: int) -> bool:
    """The same customer, or a person and the organisation they work at (either way)."""
    if sender_id == owner_id:
        return True
    pair = ((Affiliation.person_id == sender_id) & (Affiliation.organisation_id == owner_id)) | (
        (Affiliation.person_id == owner_id) & (Affiliation.organisation_id == sender_id))
    return db.session.execute(select(Affiliation.id).where(pair).limit(1)).first() is not None


def thread_ticket(mail: ParsedMail, customer: Customer | None) -> Ticket | None:
    """The ticket this mail answers (headers first, then the subject's reference)."""
    candidates: list[int] = []
    ids = mail.thread_ids
    if ids:
        by_message = dict(db.session.execute(
            select(Message.email_message_id, Message.ticket_id)
            .where(Message.email_message_id.in_(ids))).all())
        by_thread = dict(db.session.execute(
            select(Ticket.email_thread, Ticket.id).where(Ticket.email_thread.in_(ids))).all())
        for item in ids:
            for found in (by_message.get(item), by_thread.get(item)):
                if found is not None and found not in candidates:
                    candidates.append(found)
    reference = ticket_reference(mail.subject)
    if reference is not None and reference not in candidates:
        candidates.append(reference)
    for ticket_id in candidates:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            continue
        ticket = _follow_merges(ticket)
        if customer is not None and not _same_party(customer.id, ticket.customer_id):
            continue  # a known other customer never writes into someone else's ticket
        return ticket
    return None


def _clean_subject(subject: str) -> str:
    subject = re.sub(r"\[\s*T-[0-9۰-۹٠-٩]+\s*\]", "", subject)
    return " ".join(REPLY_PREFIX.sub("", subject).split())


def _text(mail: ParsedMail) -> str:
    if mail.text.strip():
        return mail.text
    with force_locale(notify.language()):
        return _("(no text)") if not mail.attachments else _("(attachments only)")


def _store_attachments(ticket: Ticket, message: Message | None, mail: ParsedMail) -> None:
    """Keep the mail's files on the ticket (checked by content); refusals become a note."""
    if not mail.attachments:
        return
    try:
        from modules.service.attachments import save_attachment
    except ImportError:
        log.info("attachments of %s not stored: no attachment store", mail.message_id)
        return
    refused = []
    with force_locale(notify.language()):
        for filename, data, _ctype in mail.attachments:
            try:
                with db.session.begin_nested():
                    save_attachment(ticket, filename, data, message=message)
            except TicketError as exc:
                refused.append(str(exc))
            except OSError as exc:  # a full disk must not lose the mail itself
                log.warning("attachment %r of %s not stored: %s", filename, mail.message_id,
                            exc)
                refused.append(filename)
        if refused:
            add_message(ticket, "internal", "\n".join(
                [_("Files in the customer's mail that were not kept:")] + refused))


def _own_addresses() -> set[str]:
    from email.utils import parseaddr

    from core.messaging.email import smtp_settings

    addresses = {mailbox_settings().address.lower(), parseaddr(smtp_settings().sender)[1]}
    return {a.lower() for a in addresses if a}


def _new_ticket(mail: ParsedMail, customer: Customer, at: datetime | None,
                previous: Ticket | None = None) -> Ticket:
    with force_locale(notify.language()):
        subject = _clean_subject(mail.subject) or _("(no subject)")
    ticket = create_ticket(customer=customer, subject=subject, body=_text(mail),
                           channel="email", email_message_id=mail.message_id,
                           reply_to=mail.from_address, at=at)
    if previous is not None:
        with force_locale(notify.language()):
            add_message(ticket, "internal", _("Follow-up to closed ticket %(ref)s.",
                                              ref=previous.reference), at=at)
            add_message(previous, "internal", _("The customer wrote again: new ticket %(ref)s.",
                                                ref=ticket.reference), at=at)
    first = ticket.messages[0] if ticket.messages else None
    _store_attachments(ticket, first, mail)
    if mailbox_settings().acknowledge:
        try:
            notify.acknowledge(ticket, mail.from_address, in_reply_to=mail.message_id)
        except ValueError as exc:  # an address the mailer refuses: the ticket still counts
            log.warning("ticket %s not acknowledged: %s", ticket.reference, exc)
    return ticket


def seen(message_id: str) -> bool:
    """Whether a mail with this Message-ID was processed already."""
    return db.session.execute(select(InboundMail.id).where(
        InboundMail.message_id == message_id)).first() is not None


def record(message_id: str, sender: str, outcome: str, ticket: Ticket | None = None
           ) -> InboundMail:
    """Remember a mail (and what became of it) so it is never processed twice."""
    row = InboundMail(message_id=message_id[:250], sender=(sender or "")[:200],
                      outcome=outcome, ticket_id=ticket.id if ticket else None)
    db.session.add(row)
    return row


def process(raw: bytes, *, at: datetime | None = None) -> InboundMail | None:
    """Turn one mail into a ticket or a reply; None when it was processed before.

    Runs in the caller's transaction (the caller commits). The ``service_inbound_mail`` row is
    flushed first, so a second poller racing on the same mail fails before writing anything.
    """
    mail = parse(raw)
    if seen(mail.message_id):
        return None
    row = record(mail.message_id, mail.from_address, "")
    db.session.flush()
    customer = find_customer(mail.from_address)
    if not mail.from_address or "@" not in mail.from_address:
        row.outcome = "refused"
    elif mail.from_address in _own_addresses():
        row.outcome = "loop"
    elif mail.auto:
        row.outcome = "auto"
        ticket = thread_ticket(mail, customer)
        row.ticket_id = ticket.id if ticket else None
    else:
        ticket = thread_ticket(mail, customer)
        if ticket is not None and ticket.status != "closed":
            message = add_message(ticket, "customer", _text(mail), channel="email",
                                  email_message_id=mail.message_id, at=at)
            _store_attachments(ticket, message, mail)
            row.outcome, row.ticket_id = "reply", ticket.id
        else:
            owner = customer
            if owner is None and ticket is not None:
                owner = db.session.get(Customer, ticket.customer_id)
            try:
                owner = owner or customer_for(mail)
            except CustomerError as exc:
                log.warning("mail %s refused: %s", mail.message_id, exc)
                row.outcome = "refused"
            else:
                new = _new_ticket(mail, owner, at, previous=ticket)
                row.outcome, row.ticket_id = "new", new.id
    db.session.flush()
    log.info("mail %s from %s: %s", mail.message_id, mail.from_address, row.outcome)
    return row


def forget_senders(customer_id: int) -> None:
    """Anonymise handler: the sender addresses of mails on the customer's tickets go."""
    from sqlalchemy import update

    tickets = select(Ticket.id).where(Ticket.customer_id == customer_id)
    db.session.execute(update(InboundMail).where(InboundMail.ticket_id.in_(tickets))
                       .values(sender="").execution_options(synchronize_session=False))


def register(app) -> None:
    """The polling job, the ``flask crm service poll-mail`` command and the mailbox page."""
    from core import jobs
    from core.customers.anonymise import add_anonymise_handler
    from modules.service import mail_poll, mailbox

    app.config.setdefault("SERVICE_MAIL_POLL_SECONDS", 60)
    jobs.periodic("service.mail", int(app.config["SERVICE_MAIL_POLL_SECONDS"]),
                  mail_poll.poll_job)
    mail_poll.register_cli()
    mailbox.register(app)
    add_anonymise_handler(app, forget_senders)

