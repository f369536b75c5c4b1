"""Tickets on the customer 360 page, tickets following a merge, anonymising message bodies."""

from flask import Flask, url_for
from flask_babel import gettext as _
from sqlalchemy import select, update

from core.customers.timeline import TimelineEntry
from core.extensions import db
from core.i18n import digits
from modules.service.models.tickets import Message, Ticket


def ticket_entries(customer) -> list[TimelineEntry]:
    """The customer's tickets the user may see: opened, and closed or resolved."""
    from core.auth.permissions import has_permission
    from modules.service.ticket_list import visible_tickets
    from modules.service.tickets import STATUS_LABELS, TYPE_LABELS

    if not has_permission("service.view"):
        return []
    tickets = db.session.execute(visible_tickets().where(Ticket.customer_id == customer.id)
                                 .order_by(Ticket.created_at.desc()).limit(100)).scalars()
    entries = []
    for ticket in tickets:
        url = url_for("service.ticket_show", ticket_id=ticket.id)
        entries.append(TimelineEntry(
            at=ticket.created_at, kind="ticket", module="service", url=url,
            title=_("Ticket opened: %(subject)s", subject=ticket.subject),
            detail=f"{digits(ticket.reference)} · {TYPE_LABELS.get(ticket.type, ticket.type)}"))
        if ticket.closed_at is not None and ticket.merged_into_id is None:
            entries.append(TimelineEntry(
                at=ticket.closed_at, kind="ticket_closed", module="service", url=url,
                title=_("Ticket closed: %(subject)s", subject=ticket.subject),
                detail=f"{digits(ticket.reference)} · {STATUS_LABELS['closed']}"))
    return entries


def move_tickets_on_merge(survivor_id: int, loser_id: int) -> None:
    """Customer merge handler: the loser's tickets and installed items go to the survivor."""
    from modules.service.models.assets import InstalledItem

    for model in (Ticket, InstalledItem):
        db.session.execute(update(model).where(model.customer_id == loser_id)
                           .values(customer_id=survivor_id))


def forget_customer(customer_id: int) -> None:
    """Anonymise handler: blank the bodies of the customer's messages, drop their files."""
    from core.customers.anonymise import PLACEHOLDER
    from modules.service.attachments import forget_customer_files

    ticket_ids = select(Ticket.id).where(Ticket.customer_id == customer_id)
    db.session.execute(update(Message).where(Message.ticket_id.in_(ticket_ids))
                       .values(body=PLACEHOLDER))
    db.session.execute(update(Ticket).where(Ticket.customer_id == customer_id)
                       .values(search_key="", reply_to="")
                       .execution_options(synchronize_session=False))
    forget_customer_files(customer_id)


def customer_actions(customer) -> list:
    """"New ticket" on the customer 360 page, for those who work on tickets."""
    from core.auth.permissions import has_permission
    from core.customers.actions import CustomerAction

    if not has_permission("service.work"):
        return []
    return [CustomerAction(_("New ticket"), url_for("service.ticket_new", customer=customer.id),
                           icon="ticket-detailed", module="service")]


def register(app: Flask) -> None:
    from core.customers.actions import add_action_provider
    from core.customers.anonymise import add_anonymise_handler
    from core.customers.merge import add_merge_handler
    from core.customers.timeline import add_provider

    add_provider(app, ticket_entries)
    add_action_provider(app, customer_actions)
    add_merge_handler(app, move_tickets_on_merge)
    add_anonymise_handler(app, forget_customer)
