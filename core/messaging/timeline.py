"""Emails and SMS sent to a customer, on the customer 360 timeline.

A sender links a message to a customer by passing ``customer_key=customer_key(id)`` to
``send_email``/``send_sms``; the delivery log keeps that key.
"""

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select, update

from core.extensions import db
from core.messaging.models import MessageLog


def customer_key(customer_id: int) -> str:
    """The delivery log's key for messages about one customer."""
    return f"customer:{customer_id}"


def _status(status: str) -> str:
    return {"queued": _("queued"), "sent": _("sent"), "delivered": _("delivered"),
            "failed": _("failed"), "suppressed": _("not sent: opted out")}.get(status, status)


def message_entries(customer) -> list:
    """The customer's emails and SMS with their delivery status, newest first."""
    from core.customers.timeline import TimelineEntry

    rows = db.session.execute(
        select(MessageLog).where(MessageLog.customer_key == customer_key(customer.id))
        .order_by(MessageLog.created_at.desc()).limit(200)).scalars()
    entries = []
    for row in rows:
        if row.channel == "email":
            title = _("Email “%(subject)s” (%(status)s)", subject=row.subject or "",
                      status=_status(row.status))
        else:
            title = _("SMS (%(status)s)", status=_status(row.status))
        entries.append(TimelineEntry(at=row.created_at, kind=row.channel, title=title,
                                     detail=row.preview))
    return entries


def merge_messages(survivor_id: int, loser_id: int) -> None:
    """A merge handler: the loser's messages now belong to the survivor."""
    db.session.execute(update(MessageLog)
                       .where(MessageLog.customer_key == customer_key(loser_id))
                       .values(customer_key=customer_key(survivor_id)))


def anonymise_messages(customer_id: int) -> None:
    """An anonymise handler: the log keeps that messages went out, not to whom or what."""
    db.session.execute(update(MessageLog)
                       .where(MessageLog.customer_key == customer_key(customer_id))
                       .values(to="", subject=None, preview=""))


def init_app(app: Flask) -> None:
    from core.customers.anonymise import add_anonymise_handler
    from core.customers.merge import add_merge_handler
    from core.customers.timeline import add_provider

    add_provider(app, message_entries)
    add_merge_handler(app, merge_messages)
    add_anonymise_handler(app, anonymise_messages)
