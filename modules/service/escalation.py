"""What an escalation rule does to a ticket: notify someone, reassign it, raise its priority."""

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.auth.models import User
from core.extensions import db
from modules.service.models.sla import EscalationRule
from modules.service.models.tickets import PRIORITIES, Ticket

TRIGGER_LABELS = {
    "first_response_warning": _l("First response about to be late"),
    "first_response_breach": _l("First response late"),
    "resolution_warning": _l("Resolution about to be late"),
    "resolution_breach": _l("Resolution late"),
}
ACTION_LABELS = {"notify": _l("Notify someone"), "reassign": _l("Reassign the ticket"),
                 "raise_priority": _l("Raise the priority")}


def apply(rule: EscalationRule, ticket: Ticket, trigger: str, now: datetime) -> None:
    """Carry out ``rule`` for ``ticket`` and note it in the ticket's history."""
    from modules.service import tickets

    detail = {"rule": rule.id, "action": rule.action, "trigger": trigger}
    if rule.action == "notify":
        detail["notified"] = notify(rule, ticket, trigger, now)
    elif rule.action == "reassign":
        if rule.target_user_id or rule.target_team_id:
            tickets.assign(ticket, user=rule.target_user_id or None,
                           team=rule.target_team_id, at=now)
            if rule.target_user_id is None:
                from modules.service import assignment

                assignment.round_robin(ticket, at=now)
    elif rule.action == "raise_priority":
        index = PRIORITIES.index(ticket.priority) if ticket.priority in PRIORITIES else 0
        if index + 1 < len(PRIORITIES):
            tickets.set_priority(ticket, PRIORITIES[index + 1], at=now)
    tickets.record_event(ticket, "escalated", new=rule.action, at=now, data=detail)


def notify(rule: EscalationRule, ticket: Ticket, trigger: str, now: datetime) -> int | None:
    """Email the rule's user (else the ticket's agent) and put a task in their "My day"."""
    from core.customers.models import Customer
    from core.customers.tasks import add_task
    from core.messaging import send_email

    user_id = rule.target_user_id or ticket.owner_id
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.active:
        return None
    what = str(TRIGGER_LABELS.get(trigger, trigger))
    subject = _("%(ref)s: %(what)s", ref=ticket.reference, what=what)
    text = _("Ticket %(ref)s (%(subject)s) needs attention: %(what)s.\n"
             "Escalation rule: %(rule)s.", ref=ticket.reference, subject=ticket.subject,
             what=what, rule=rule.name)
    if user.email:
        send_email(user.email, subject, text=text, language=user.locale or None,
                   key=f"service-escalation-{rule.id}-{ticket.id}")
    customer = db.session.get(Customer, ticket.customer_id)
    if customer is not None:
        add_task(customer, subject, due_at=now, assignee_id=user.id)
    return user.id
