"""Periodic SLA recompute of open tickets, warnings, breaches and escalation rules.

Each batch: read tickets and events (then end the read transaction), write the changed cache
columns, then fire what is due under a named lock. A ``sla_warning``/``sla_breach`` event is
recorded once per ticket and clock, and each escalation rule fires once per ticket
(``EscalationFired`` has a unique key), however often or concurrently the job runs.
"""

import logging
from collections import defaultdict
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from core import jobs
from core.database import lock, utcnow
from core.extensions import db
from modules.service import escalation
from modules.service.models.sla import EscalationFired, EscalationRule
from modules.service.models.tickets import DONE, Ticket, TicketEvent
from modules.service.sla_state import CACHE_COLUMNS, SlaContext, changed_columns, compute

log = logging.getLogger(__name__)
BATCH = 1000
EVERY_SECONDS = 300
SLA_EVENT_KINDS = ("sla_warning", "sla_breach")
_COLUMNS = ("id", "priority", "customer_id", "created_at", "status", "updated_at",
            *CACHE_COLUMNS)


# Only where the ticket is as it was read: a change made meanwhile refreshed the cache itself
# (and a ticket resolved meanwhile is no longer visited by the job).
_table = Ticket.__table__
_GUARDED_UPDATE = (
    update(_table)
    .where(_table.c.id == bindparam("b_id"), _table.c.updated_at == bindparam("b_updated"),
           _table.c.status == bindparam("b_status"))
    .values(updated_at=bindparam("b_updated"),
            **{c: bindparam(c) for c in CACHE_COLUMNS}))


def register(app) -> None:
    """Recompute open tickets every few minutes (the worker's scheduler)."""
    jobs.periodic("service.sla_recompute", EVERY_SECONDS, run_sla_job)


@jobs.job(module="service")
def run_sla_job() -> dict:
    """The periodic entry point."""
    return recompute_open()


def reached(fr, res) -> list[tuple[str, str, str]]:
    """``(trigger, event kind, clock)`` a ticket has reached, from its two measures."""
    found = []
    for clock, m in (("first_response", fr), ("resolution", res)):
        if m is None:
            continue
        if not m.stopped and (m.warning or m.breached):
            found.append((f"{clock}_warning", "sla_warning", clock))
        if m.breached:
            found.append((f"{clock}_breach", "sla_breach", clock))
    return found


def _load(ids: list[int]):
    events = defaultdict(list)
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.id, TicketEvent.at, TicketEvent.kind,
               TicketEvent.new).where(TicketEvent.ticket_id.in_(ids))
        .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id))
    for row in rows:
        events[row.ticket_id].append(row)
    fired = {(ticket_id, rule_id) for ticket_id, rule_id in db.session.execute(
        select(EscalationFired.ticket_id, EscalationFired.rule_id)
        .where(EscalationFired.ticket_id.in_(ids)))}
    return events, fired


def recompute_open(now: datetime | None = None, batch: int = BATCH) -> dict:
    """Recompute every open ticket in batches and fire what became due; returns counts."""
    now = now or utcnow()
    counts = {"tickets": 0, "changed": 0, "fired": 0}
    last_id = 0
    while True:
        context = SlaContext()
        rules = [SimpleNamespace(id=r.id, trigger=r.trigger, priority=r.priority)
                 for r in db.session.scalars(select(EscalationRule)
                                             .where(EscalationRule.active.is_(True)))]
        columns = [getattr(Ticket, c) for c in _COLUMNS]
        rows = db.session.execute(
            select(*columns).where(Ticket.status.not_in(DONE), Ticket.merged_into_id.is_(None),
                                   Ticket.id > last_id).order_by(Ticket.id).limit(batch)).all()
        if not rows:
            db.session.commit()
            return counts
        last_id = rows[-1].id
        context.prefetch_tags(r.customer_id for r in rows)
        events, fired = _load([r.id for r in rows])
        db.session.commit()  # end the read transaction before writing (SQLite snapshots)
        updates, due = [], {}
        for row in rows:
            values, fr, res = compute(row, events[row.id], context, now, presorted=True)
            if changed_columns(row, values):
                updates.append({"b_id": row.id, "b_updated": row.updated_at,
                                "b_status": row.status, **values})
            wanted = _wanted(row, reached(fr, res), events[row.id], fired, rules)
            if wanted:
                due[row.id] = (row.priority, wanted)
        counts["tickets"] += len(rows)
        if updates:
            db.session.execute(_GUARDED_UPDATE, updates)
            db.session.commit()
            counts["changed"] += len(updates)
        if due:
            counts["fired"] += fire(due, rules, now)
            db.session.commit()


def _wanted(row, triggers, events, fired, rules) -> list[tuple[str, str, str]]:
    have = {(e.kind, e.new) for e in events if e.kind in SLA_EVENT_KINDS}
    return [(trigger, kind, clock) for trigger, kind, clock in triggers
            if (kind, clock) not in have or _matching(rules, trigger, row.priority, row.id,
                                                       fired)]


def _matching(rules, trigger: str, priority: str, ticket_id: int, fired) -> list:
    return [r for r in rules if r.trigger == trigger and r.priority in ("", priority)
            and (ticket_id, r.id) not in fired]


def fire(due: dict[int, tuple[str, list[tuple[str, str, str]]]], rules, now: datetime) -> int:
    """Record the SLA events and fire the rules for ``due`` tickets, each once; the count.

    ``due`` maps a ticket id to its priority and the (trigger, event kind, clock) it reached.
    """
    lock("service.sla_escalation")  # concurrent runs fire in turn, each seeing the other's
    events, fired = _load(list(due))
    new_events, acting = [], {}
    for ticket_id, (priority, wanted) in due.items():
        have = {(e.kind, e.new) for e in events[ticket_id] if e.kind in SLA_EVENT_KINDS}
        for trigger, kind, clock in wanted:
            if (kind, clock) not in have:
                have.add((kind, clock))
                new_events.append({"ticket_id": ticket_id, "kind": kind, "new": clock,
                                   "old": "", "at": now, "data": {"trigger": trigger}})
            if _matching(rules, trigger, priority, ticket_id, fired):
                acting.setdefault(ticket_id, []).append(trigger)
    if new_events:  # many at once on a first run: one statement, not one object each
        db.session.execute(insert(TicketEvent), new_events)
    count = 0
    for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(list(acting)))):
        for trigger in acting[ticket.id]:
            for rule in _matching(rules, trigger, ticket.priority, ticket.id, fired):
                try:
                    with db.session.begin_nested():
                        db.session.add(EscalationFired(rule_id=rule.id, ticket_id=ticket.id,
                                                       fired_at=now))
                        db.session.flush()
                        escalation.apply(db.session.get(EscalationRule, rule.id), ticket,
                                         trigger, now)
                except IntegrityError:
                    log.info("rule %s already fired for ticket %s", rule.id, ticket.id)
                    continue
                fired.add((ticket.id, rule.id))
                count += 1
    return count
