"""Ticket life: create, reply, note, change status or priority, assign. The one write path.

Every change appends a ``TicketEvent`` (the SLA engine reads only those), then refreshes the
ticket's SLA cache (``sla_state.refresh``). Public replies go to the customer through
``notify.public_reply`` (outbox: email or SMS). Closing emits ``ticket_closed``.

    ticket = create_ticket(customer=c, subject="...", body="...", channel="portal")
    add_message(ticket, "public", "Answer", by=agent)
    change_status(ticket, "closed", by=agent)
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l

from core.database import utcnow
from core.events import emit, ticket_closed
from core.extensions import db
from core.i18n import normalize
from modules.service.models.tickets import (
    CHANNELS,
    DONE,
    MESSAGE_KINDS,
    PRIORITIES,
    STATUSES,
    TYPES,
    Message,
    Ticket,
    TicketEvent,
)

TYPE_LABELS = {"complaint": _l("Complaint"), "request": _l("Request"),
               "question": _l("Question"), "warranty": _l("Warranty claim")}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"),
                   "urgent": _l("Urgent")}
STATUS_LABELS = {"new": _l("New"), "open": _l("Open"),
                 "waiting_customer": _l("Waiting on customer"),
                 "waiting_third_party": _l("Waiting on third party"),
                 "resolved": _l("Resolved"), "closed": _l("Closed")}
CHANNEL_LABELS = {"portal": _l("Portal"), "email": _l("Email"), "sms": _l("SMS"),
                  "phone": _l("Phone"), "web": _l("Web"), "api": _l("API"),
                  "in_person": _l("In person")}


class TicketError(ValueError):
    """A change that is not allowed; the message is shown to the user."""


def _check(value: str, allowed, what: str) -> str:
    if value not in allowed:
        raise TicketError(f"unknown {what}: {value!r}")
    return value


def search_key_for(ticket: Ticket, customer_name: str = "") -> str:
    """Reference, subject, serial and customer name, normalised (``core.i18n.normalize``)."""
    parts = [ticket.reference if ticket.id else "", ticket.subject, ticket.serial,
             ticket.product_name, customer_name]
    return normalize(" ".join(p for p in parts if p))


def record_event(ticket: Ticket, kind: str, *, old: str = "", new: str = "", by=None,
                 at: datetime | None = None, data: dict | None = None) -> TicketEvent:
    """Append one event to the ticket's history (never edited afterwards)."""
    event = TicketEvent(ticket=ticket, kind=kind, old=old or "", new=new or "",
                        actor_id=getattr(by, "id", by), at=at or utcnow(), data=data or {})
    db.session.add(event)
    return event


def _refresh(ticket: Ticket, at: datetime | None) -> None:
    from modules.service import sla_state

    db.session.flush()
    sla_state.refresh(ticket, now=at)


def create_ticket(*, customer, subject: str, body: str = "", type: str = "request",
                  priority: str = "normal", channel: str = "phone", category=None,
                  product_id: int | None = None, product_name: str = "", serial: str = "",
                  owner=None, team=None, by=None, at: datetime | None = None,
                  email_message_id: str | None = None, reply_to: str = "") -> Ticket:
    """Open a ticket for ``customer``; ``body`` becomes the customer's first message."""
    subject = (subject or "").strip()
    if not subject:
        raise TicketError(str(_l("A ticket needs a subject.")))
    at = at or utcnow()
    ticket = Ticket(
        subject=subject[:250], type=_check(type, TYPES, "type"),
        priority=_check(priority, PRIORITIES, "priority"),
        channel=_check(channel, CHANNELS, "channel"), status="new",
        customer_id=customer.id, category=category, product_id=product_id,
        product_name=product_name or "", serial=(serial or "").strip(),
        owner_id=getattr(owner, "id", owner), created_by_id=getattr(by, "id", by),
        team_id=getattr(team, "id", team) or (category.team_id if category else None),
        email_thread=email_message_id or "", reply_to=reply_to or "", created_at=at,
        updated_at=at)
    db.session.add(ticket)
    db.session.flush()
    ticket.search_key = search_key_for(ticket, customer.display_name)
    record_event(ticket, "created", new=ticket.status, by=by, at=at,
                 data={"priority": ticket.priority, "channel": ticket.channel})
    if body.strip():
        db.session.add(Message(ticket=ticket, kind="customer", body=body.strip(),
                               channel=channel, email_message_id=email_message_id,
                               created_at=at))
    if ticket.owner_id is None and ticket.team_id is not None:
        from modules.service import assignment

        assignment.round_robin(ticket, at=at)
    _refresh(ticket, at)
    return ticket


def add_message(ticket: Ticket, kind: str, body: str, *, by=None, channel: str = "",
                at: datetime | None = None, email_message_id: str | None = None,
                notify: bool = True) -> Message:
    """A public reply (``by`` an agent), an internal note, or a message from the customer.

    A customer message reopens a resolved ticket or one waiting on the customer; an agent's
    first public reply ends the first-response clock; a reply to a new ticket opens it.
    """
    _check(kind, MESSAGE_KINDS, "message kind")
    body = (body or "").strip()
    if not body:
        raise TicketError(str(_l("The message is empty.")))
    if ticket.status == "closed" and kind != "internal":
        raise TicketError(str(_l("This ticket is closed; open a new one.")))
    at = at or utcnow()
    message = Message(ticket=ticket, kind=kind, body=body, author_id=getattr(by, "id", by),
                      channel=channel or ("" if kind == "internal" else ticket.channel),
                      email_message_id=email_message_id, created_at=at)
    db.session.add(message)
    if kind == "public":
        record_event(ticket, "reply", by=by, at=at)
        ticket.public_replies = (ticket.public_replies or 0) + 1
        if ticket.first_responded_at is None:
            ticket.first_responded_at = at
        if ticket.status == "new":
            _set_status(ticket, "open", by=by, at=at)
    elif kind == "customer":
        record_event(ticket, "customer_reply", at=at)
        if ticket.status in ("waiting_customer", "resolved"):
            _set_status(ticket, "open", by=None, at=at)
    else:
        record_event(ticket, "note", by=by, at=at)
    ticket.updated_at = at
    db.session.flush()
    if kind == "public" and notify:
        from modules.service import notify as notify_module

        notify_module.public_reply(ticket, message)
    _refresh(ticket, at)
    return message


def _set_status(ticket: Ticket, status: str, *, by, at: datetime) -> None:
    old = ticket.status
    if old == status:
        return
    ticket.status = status
    record_event(ticket, "status", old=old, new=status, by=by, at=at)
    if status in DONE and ticket.resolved_at is None:
        ticket.resolved_at = at
    if status == "closed":
        ticket.closed_at = at
    if status not in DONE:
        if old in DONE:
            ticket.reopened = (ticket.reopened or 0) + 1
        ticket.resolved_at = None
        ticket.closed_at = None


def change_status(ticket: Ticket, status: str, *, by=None, at: datetime | None = None) -> None:
    """Move the ticket to ``status``; closing it emits ``ticket_closed`` (CSAT, loyalty...)."""
    _check(status, STATUSES, "status")
    if ticket.merged_into_id is not None:
        raise TicketError(str(_l("This ticket was merged into another one.")))
    at = at or utcnow()
    old = ticket.status
    _set_status(ticket, status, by=by, at=at)
    ticket.updated_at = at
    _refresh(ticket, at)
    if status == "closed" and old != "closed":
        emit(ticket_closed, ticket=ticket)


def set_priority(ticket: Ticket, priority: str, *, by=None, at: datetime | None = None) -> None:
    """Change the priority; the SLA targets follow the matching policy."""
    _check(priority, PRIORITIES, "priority")
    if priority == ticket.priority:
        return
    at = at or utcnow()
    record_event(ticket, "priority", old=ticket.priority, new=priority, by=by, at=at)
    ticket.priority = priority
    ticket.updated_at = at
    _refresh(ticket, at)


def assign(ticket: Ticket, *, user=None, team=None, by=None, at: datetime | None = None,
           clear_team: bool = False) -> None:
    """Give the ticket to an agent and/or a team (by hand); ``clear_team`` takes the team off."""
    at = at or utcnow()
    new_user = getattr(user, "id", user)
    new_team = getattr(team, "id", team) if team is not None else ticket.team_id
    if clear_team:
        new_team = None
    if new_user == ticket.owner_id and new_team == ticket.team_id:
        return
    record_event(ticket, "assign", old=str(ticket.owner_id or ""), new=str(new_user or ""),
                 by=by, at=at, data={"team": new_team})
    ticket.owner_id = new_user
    ticket.team_id = new_team
    ticket.updated_at = at


def merge_tickets(loser: Ticket, survivor: Ticket, *, by=None,
                  at: datetime | None = None) -> Ticket:
    """Merge the duplicate ``loser`` into ``survivor``: its messages and files move over.

    The loser is closed with ``merged_into_id`` set (no ``ticket_closed``: it was not served,
    it was a duplicate); both tickets get a ``merged`` event.
    """
    from sqlalchemy import update

    from modules.service.models.tickets import Attachment

    if loser.id == survivor.id:
        raise TicketError(str(_l("A ticket cannot be merged into itself.")))
    if loser.customer_id != survivor.customer_id:
        raise TicketError(str(_l("Only tickets of the same customer can be merged.")))
    if loser.merged_into_id is not None or survivor.merged_into_id is not None:
        raise TicketError(str(_l("This ticket was merged into another one.")))
    at = at or utcnow()
    db.session.flush()
    moved = db.session.execute(update(Message).where(Message.ticket_id == loser.id)
                               .values(ticket_id=survivor.id)).rowcount
    db.session.execute(update(Attachment).where(Attachment.ticket_id == loser.id)
                       .values(ticket_id=survivor.id))
    db.session.expire(loser, ["messages"])
    db.session.expire(survivor, ["messages"])
    record_event(survivor, "merged", by=by, at=at, old=loser.reference,
                 data={"from": loser.id, "messages": moved})
    record_event(loser, "merged", by=by, at=at, new=survivor.reference,
                 data={"into": survivor.id})
    _set_status(loser, "closed", by=by, at=at)
    loser.merged_into_id = survivor.id
    loser.updated_at = survivor.updated_at = at
    _refresh(loser, at)
    _refresh(survivor, at)
    return survivor
