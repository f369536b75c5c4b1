"""Escalation: each rule fires once per ticket, however often (or concurrently) the job runs."""

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.customers.models import Task
from core.extensions import db
from core.jobs import periodic_jobs
from core.outbox.models import OutboxMessage
from modules.service import sla_jobs, sla_state, tickets
from modules.service.models.sla import EscalationFired, EscalationRule, SlaPolicy
from modules.service.models.tickets import Ticket, TicketEvent

TEHRAN = ZoneInfo("Asia/Tehran")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TEHRAN).astimezone(UTC)


def count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def setup_ticket(app, make_user, *rules):
    """An urgent ticket opened Saturday 8:00 (1h first response, 8h resolution) and rules."""
    boss = make_user("boss@example.ir", role="manager", name="Boss")
    agent = make_user("agent@example.ir", role="agent", name="Agent")
    with app.test_request_context():
        from core.customers.services import create_customer

        calendar = sla_state.ensure_defaults()
        db.session.add(SlaPolicy(name="urgent", priority="urgent", first_response_minutes=60,
                                 resolution_minutes=480, warn_percent=50,
                                 calendar_id=calendar.id, position=-1))
        for name, trigger, action in rules:
            db.session.add(EscalationRule(name=name, trigger=trigger, action=action,
                                          target_user_id=boss))
        customer = create_customer(kind="person", first_name="سارا", last_name="احمدی")
        ticket = tickets.create_ticket(customer=customer, subject="late", priority="urgent",
                                       owner=agent, at=at(2025, 4, 12, 8))
        db.session.commit()
        return ticket.id, boss, agent


def test_rules_fire_once_over_three_runs(app, make_user):
    ticket_id, boss, _agent = setup_ticket(
        app, make_user, ("tell the boss", "first_response_breach", "notify"),
        ("warn", "first_response_warning", "notify"))
    assert "service.sla_recompute" in periodic_jobs()
    with app.app_context():
        result = sla_jobs.recompute_open(now=at(2025, 4, 12, 8, 40))  # 40 of 60 min: warning
        assert result["fired"] == 1
        for hour in (10, 11, 12):  # breached; three runs
            sla_jobs.recompute_open(now=at(2025, 4, 12, hour))
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.sla_state == "breached" and ticket.first_response_breached
        assert count(EscalationFired, EscalationFired.ticket_id == ticket_id) == 2
        kinds = [(e.kind, e.new) for e in db.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id))]
        assert kinds.count(("sla_warning", "first_response")) == 1
        assert kinds.count(("sla_breach", "first_response")) == 1
        assert kinds.count(("sla_warning", "resolution")) == 1  # 4h of 8h by 12:00
        assert kinds.count(("escalated", "notify")) == 2
        emails = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "email")).all()
        assert len(emails) == 2 and all(e.payload["to"] == ["boss@example.ir"] for e in emails)
        assert ticket.reference in emails[0].payload["subject"]
        assert count(Task, Task.assignee_id == boss) == 2  # in the boss's "My day"


def test_raise_priority_and_reassign_act_once(app, make_user):
    ticket_id, boss, _agent = setup_ticket(
        app, make_user, ("up", "resolution_warning", "raise_priority"),
        ("move", "first_response_breach", "reassign"))
    with app.app_context():
        for _run in range(3):
            sla_jobs.recompute_open(now=at(2025, 4, 12, 13))  # 5h of 8h: warning (50%)
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.owner_id == boss
        # urgent is the top: raise_priority changes nothing, but fires once
        assert ticket.priority == "urgent"
        assert count(EscalationFired, EscalationFired.ticket_id == ticket_id) == 2


def test_raise_priority_goes_one_level_up(app, make_user):
    ticket_id, _boss, _agent = setup_ticket(
        app, make_user, ("up", "first_response_breach", "raise_priority"))
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        tickets.set_priority(ticket, "normal", at=at(2025, 4, 12, 8, 1))
        db.session.commit()
        for hour in (16, 17):  # normal: 8h first response -> due Saturday 16:00
            sla_jobs.recompute_open(now=at(2025, 4, 13, hour))
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.priority == "high"


def test_two_runs_at_once_fire_each_rule_once(app, make_user):
    ticket_id, _boss, _agent = setup_ticket(
        app, make_user, ("tell the boss", "first_response_breach", "notify"))
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                sla_jobs.recompute_open(now=at(2025, 4, 12, 12))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            import traceback
            traceback.print_exc()
            errors.append(exc)

    threads = [threading.Thread(target=run) for _i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with app.app_context():
        assert count(EscalationFired, EscalationFired.ticket_id == ticket_id) == 1
        assert count(TicketEvent, TicketEvent.ticket_id == ticket_id,
                     TicketEvent.kind == "sla_breach") == 1
        assert count(OutboxMessage, OutboxMessage.kind == "email") == 1


def test_the_job_writes_the_cache_without_touching_updated_at(app, make_user):
    ticket_id, _boss, _agent = setup_ticket(app, make_user)
    with app.app_context():
        before = db.session.get(Ticket, ticket_id).updated_at
        result = sla_jobs.recompute_open(now=at(2025, 4, 12, 8, 30))
        assert result == {"tickets": 1, "changed": 1, "fired": 0}
        assert sla_jobs.recompute_open(now=at(2025, 4, 12, 8, 30))["changed"] == 0
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.updated_at == before and ticket.first_response_seconds == 1800
        assert ticket.sla_state == "warning"


def test_reassign_to_a_team_gives_the_ticket_to_its_next_agent(app, make_user):
    from core.auth.models import Team, User

    ticket_id, _boss, agent = setup_ticket(app, make_user)
    other = make_user("night@example.ir", role="agent", seats=["service"])
    with app.app_context():
        team = Team(name="Night shift")
        db.session.add(team)
        db.session.flush()
        db.session.get(User, other).team_id = team.id
        db.session.add(EscalationRule(name="to the night shift", trigger="first_response_breach",
                                      action="reassign", target_team_id=team.id))
        db.session.commit()
        for _run in range(2):
            sla_jobs.recompute_open(now=at(2025, 4, 12, 10))
        ticket = db.session.get(Ticket, ticket_id)
        assert (ticket.team_id, ticket.owner_id) == (team.id, other)
        moves = db.session.scalars(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "assign")).all()
        assert len(moves) == 2  # the team, then its agent in turn; once
        assert ticket.owner_id != agent


def test_a_change_made_while_the_job_computes_is_not_overwritten(app, make_user, monkeypatch):
    ticket_id, _boss, _agent = setup_ticket(app, make_user)
    real_compute = sla_jobs.compute

    def resolve_elsewhere():
        with app.app_context():
            ticket = db.session.get(Ticket, ticket_id)
            tickets.change_status(ticket, "resolved", at=at(2025, 4, 12, 8, 20))
            db.session.commit()
            db.session.remove()

    def compute_while_resolved(*args, **kwargs):
        thread = threading.Thread(target=resolve_elsewhere)
        thread.start()
        thread.join(30)
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(sla_jobs, "compute", compute_while_resolved)
    with app.app_context():
        sla_jobs.recompute_open(now=at(2025, 4, 12, 8, 30))
        db.session.expire_all()
        ticket = db.session.get(Ticket, ticket_id)
        assert ticket.status == "resolved" and ticket.sla_state == "met"
        assert ticket.resolution_seconds == 20 * 60
