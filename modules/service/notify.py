"""Messages to the customer about their ticket (email with the ticket reference, or SMS).

Every send goes through ``core.messaging`` (opt-out list, delivery log, outbox). Emails carry
``[T-000123]`` in the subject, a Message-ID recorded on the ``Message`` row, and
In-Reply-To/References pointing at the customer's mails, so mail clients keep one thread and
the customer's answer comes back to the same ticket (``modules.service.mail``).
"""

import logging

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core import messaging
from core.customers.models import Customer
from core.database import get_setting
from core.extensions import db
from modules.service.models.tickets import Message, Ticket

log = logging.getLogger(__name__)
EMAIL_CHANNELS = ("email", "portal", "web", "api")
SMS_LIMIT = 300


def language() -> str:
    """The language customers read: the deployment's display language."""
    return get_setting("display.language") or "fa"


def subject_for(ticket: Ticket) -> str:
    """``[T-000123] subject`` (the reference is not repeated when the subject has it)."""
    subject = ticket.subject
    tag = f"[{ticket.reference}]"
    return subject if tag in subject else f"{tag} {subject}"


def _support_address() -> str | None:
    from modules.service.mailbox import mailbox_settings

    return mailbox_settings().address or None


def _email_of(ticket: Ticket, customer: Customer) -> str | None:
    for address in (ticket.reply_to, customer.email):
        if address:
            try:
                messaging.canonical_email(address)
            except ValueError:
                continue
            return address
    return None


def _thread_headers(ticket: Ticket, exclude: int | None = None) -> dict[str, str]:
    """In-Reply-To (the customer's latest mail) and References (thread root, then replies)."""
    ids = list(db.session.execute(
        select(Message.email_message_id).where(
            Message.ticket_id == ticket.id, Message.email_message_id.is_not(None),
            Message.id != (exclude or 0)).order_by(Message.created_at, Message.id)).scalars())
    chain = [ticket.email_thread] if ticket.email_thread else []
    chain += [i for i in ids if i not in chain]
    if not chain:
        return {}
    chain = chain[:1] + chain[1:][-9:]  # the root and the latest few keep headers short
    customer_ids = list(db.session.execute(
        select(Message.email_message_id).where(
            Message.ticket_id == ticket.id, Message.kind == "customer",
            Message.email_message_id.is_not(None)).order_by(
            Message.created_at.desc(), Message.id.desc()).limit(1)).scalars())
    return {"In-Reply-To": (customer_ids or [chain[-1]])[0], "References": " ".join(chain)}


def public_reply(ticket: Ticket, message: Message) -> None:
    """Send an agent's public reply to the customer through the outbox."""
    customer = db.session.get(Customer, ticket.customer_id)
    if customer is None:
        return
    address = _email_of(ticket, customer)
    mobile = customer.mobile
    lang = language()
    if address and (ticket.channel in EMAIL_CHANNELS or not mobile):
        with force_locale(lang):
            footer = _("Your ticket reference is %(ref)s. Reply to this email to add to it.",
                       ref=ticket.reference)
        sent = messaging.send_email(
            address, subject_for(ticket), text=f"{message.body}\n\n--\n{footer}",
            reply_to=_support_address(), headers=_thread_headers(ticket, exclude=message.id),
            customer_key=f"customer:{customer.id}", language=lang,
            key=f"service.reply.{message.id}")
        if sent is not None:
            message.email_message_id = sent.payload.get("message_id")
            message.channel = "email"
        return
    if mobile:
        with force_locale(lang):
            text = _("Ticket %(ref)s: %(body)s", ref=ticket.reference, body=message.body)
        if len(text) > SMS_LIMIT:
            with force_locale(lang):
                more = _("(see the full answer in the portal)")
            text = text[:SMS_LIMIT - len(more) - 2].rstrip() + "… " + more
        messaging.send_sms(mobile, text, customer_key=f"customer:{customer.id}",
                           key=f"service.reply.{message.id}")
        message.channel = "sms"
        return
    log.info("ticket %s: public reply not sent, the customer has no email or mobile",
             ticket.reference)


def acknowledge(ticket: Ticket, address: str, in_reply_to: str | None = None) -> None:
    """Tell the sender of a new email ticket that it arrived, with its reference."""
    lang = language()
    with force_locale(lang):
        text = "\n\n".join([
            _("We received your message and opened ticket %(ref)s.", ref=ticket.reference),
            _("Reply to this email to add to the ticket; please keep %(ref)s in the subject.",
              ref=ticket.reference),
        ])
    headers = {"Auto-Submitted": "auto-replied"}  # other robots must not answer it
    if in_reply_to:
        headers.update({"In-Reply-To": in_reply_to, "References": in_reply_to})
    messaging.send_email(address, subject_for(ticket), text=text, reply_to=_support_address(),
                         headers=headers, customer_key=f"customer:{ticket.customer_id}",
                         language=lang, key=f"service.ack.{ticket.id}")
