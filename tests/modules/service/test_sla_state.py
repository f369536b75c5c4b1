"""SLA cache on tickets: worked examples in Tehran time, pauses, policy matching, stability."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.extensions import db
from modules.service import sla_state, tickets
from modules.service.models.sla import Calendar, Holiday, SlaPolicy
from modules.service.models.tickets import Ticket, TicketEvent

TEHRAN = ZoneInfo("Asia/Tehran")


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TEHRAN).astimezone(UTC)


def customer():
    from core.customers.services import create_customer

    return create_customer(kind="person", first_name="علی", last_name="رضایی")


def policy(priority="normal", first=240, resolution=960, **extra):
    calendar = sla_state.ensure_defaults()
    p = SlaPolicy(name=f"p-{priority}-{first}", priority=priority, first_response_minutes=first,
                  resolution_minutes=resolution, warn_percent=75, calendar_id=calendar.id,
                  position=-1, **extra)
    db.session.add(p)
    db.session.flush()
    return p


def test_defaults_are_created_lazily_once(app):
    with app.test_request_context():
        c = customer()
        t = tickets.create_ticket(customer=c, subject="x", priority="urgent",
                                  at=at(2025, 4, 12, 9))
        calendar = db.session.scalar(select(Calendar))
        assert calendar.name == "دفتر تهران" and calendar.timezone == "Asia/Tehran"
        assert db.session.scalar(select(db.func.count(SlaPolicy.id))) == 4
        urgent = db.session.get(SlaPolicy, t.sla_policy_id)
        assert (urgent.priority, urgent.first_response_minutes) == ("urgent", 60)
        assert t.first_response_due == at(2025, 4, 12, 10)  # a Saturday
        tickets.create_ticket(customer=c, subject="y", at=at(2025, 4, 12, 9))
        assert db.session.scalar(select(db.func.count(Calendar.id))) == 1
        assert db.session.scalar(select(db.func.count(SlaPolicy.id))) == 4


def test_thursday_half_day_and_friday(app):
    with app.test_request_context():
        p = policy(first=240, resolution=600)
        t = tickets.create_ticket(customer=customer(), subject="Thursday noon",
                                  at=at(2025, 4, 17, 12))  # Thursday 12:00 Tehran
        assert t.sla_policy_id == p.id
        assert t.first_response_due.astimezone(TEHRAN) == at(2025, 4, 19, 11)  # Saturday 11:00
        # 10h: Thu 12-13 (1h), Sat 8-17 (9h) -> Saturday 17:00
        assert t.resolution_due == at(2025, 4, 19, 17)
        sla_state.refresh(t, now=at(2025, 4, 18, 23))  # all of Friday: still one hour
        assert t.first_response_seconds == 3600 and t.sla_state == "ok"
        sla_state.refresh(t, now=at(2025, 4, 19, 10))  # Sat 10:00: 3h of 4h -> warning (75%)
        assert t.first_response_seconds == 3 * 3600 and t.sla_state == "warning"
        sla_state.refresh(t, now=at(2025, 4, 19, 11, 1))
        assert t.sla_state == "breached" and t.first_response_breached
        assert not t.resolution_breached


def test_nowruz_holidays_are_skipped(app):
    with app.test_request_context():
        calendar = sla_state.ensure_defaults()
        for day in (date(2025, 3, 19), date(2025, 3, 21), date(2025, 3, 22),
                    date(2025, 3, 23), date(2025, 3, 24)):  # 29 Esfand, 1-4 Farvardin
            db.session.add(Holiday(calendar_id=calendar.id, day=day, name="holiday"))
        policy(first=480, resolution=960)
        t = tickets.create_ticket(customer=customer(), subject="before Nowruz",
                                  at=at(2025, 3, 19, 10))  # 29 Esfand 1403, a holiday
        # Thu 30 Esfand 8-13 (5h), Friday and Nowruz off, Tue 5 Farvardin 8-11 (3h)
        assert t.first_response_due == at(2025, 3, 25, 11)
        # 16h: 5h + Tue 9h + Wed 2h -> Wednesday 6 Farvardin 10:00
        assert t.resolution_due == at(2025, 3, 26, 10)


def test_waiting_pauses_the_clock_and_reply_meets_first_response(app):
    with app.test_request_context():
        policy(first=240, resolution=600)
        t = tickets.create_ticket(customer=customer(), subject="pause", at=at(2025, 4, 12, 8))
        tickets.change_status(t, "waiting_customer", at=at(2025, 4, 12, 9))
        assert t.first_response_due is None and t.resolution_seconds == 3600
        tickets.change_status(t, "open", at=at(2025, 4, 13, 9))  # a day later
        assert t.first_response_due == at(2025, 4, 13, 12)
        tickets.add_message(t, "public", "answer", at=at(2025, 4, 13, 10), notify=False)
        assert t.first_response_seconds == 2 * 3600 and not t.first_response_breached
        tickets.change_status(t, "resolved", at=at(2025, 4, 13, 11))
        assert t.sla_state == "met" and t.resolution_seconds == 3 * 3600
        sla_state.refresh(t, now=at(2025, 5, 1))
        assert t.sla_state == "met" and t.resolution_seconds == 3 * 3600
        tickets.add_message(t, "customer", "still broken", at=at(2025, 4, 14, 8))  # reopens
        sla_state.refresh(t, now=at(2025, 4, 14, 10))
        assert t.status == "open" and t.resolution_seconds == 5 * 3600
        assert t.resolution_due == at(2025, 4, 14, 15)  # 5h left from 10:00


def test_most_specific_policy_wins(app):
    from core.customers.models import Tag

    with app.test_request_context():
        c = customer()
        vip = Tag(name="VIP")
        db.session.add(vip)
        c.tags.append(vip)
        sla_state.ensure_defaults()
        for default in db.session.scalars(select(SlaPolicy)):
            default.active = False  # only the policies below
        general = policy(priority="", first=600)
        by_priority = policy(priority="high", first=300)
        by_both = policy(priority="high", first=60, customer_tag_id=vip.id)
        policy(priority="", first=30, loyalty_tier="gold")  # loyalty inactive: never matches
        t = tickets.create_ticket(customer=c, subject="vip", priority="high", at=at(2025, 4, 12))
        assert t.sla_policy_id == by_both.id
        other = tickets.create_ticket(customer=customer(), subject="o", priority="high")
        assert other.sla_policy_id == by_priority.id
        low = tickets.create_ticket(customer=customer(), subject="l", priority="low")
        assert low.sla_policy_id == general.id
        tickets.set_priority(t, "low", at=at(2025, 4, 12, 1))
        assert t.sla_policy_id == general.id


STEPS = st.lists(st.tuples(st.integers(1, 1500), st.sampled_from(
    ["open", "waiting_customer", "waiting_third_party", "resolved", "closed", "reply",
     "customer"])), max_size=10)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, later=st.integers(0, 10000), priority=st.sampled_from(
    ["low", "normal", "high", "urgent"]))
def test_recompute_is_stable_and_replays_identically(app, steps, later, priority):
    with app.test_request_context():
        c = customer()
        t = tickets.create_ticket(customer=c, subject="history", priority=priority,
                                  at=at(2025, 3, 15, 9))
        moment = at(2025, 3, 15, 9)
        for gap, step in steps:
            moment += timedelta(minutes=gap)
            if t.status == "closed":
                break
            if step == "reply":
                tickets.add_message(t, "public", "r", at=moment, notify=False)
            elif step == "customer":
                tickets.add_message(t, "customer", "c", at=moment)
            else:
                tickets.change_status(t, step, at=moment)
        now = moment + timedelta(minutes=later)
        sla_state.refresh(t, now=now)
        db.session.commit()
        first = {k: getattr(t, k) for k in sla_state.CACHE_COLUMNS}
        assert first["first_response_seconds"] >= 0 and first["resolution_seconds"] >= 0
        assert sla_state.refresh(t, now=now) == {}  # twice: nothing changes
        twin = Ticket(subject="twin", customer_id=c.id, priority=t.priority,
                      created_at=t.created_at)
        db.session.add(twin)
        db.session.flush()
        for e in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                    .order_by(TicketEvent.id.desc())):  # inserted in reverse
            db.session.add(TicketEvent(ticket_id=twin.id, kind=e.kind, at=e.at, old=e.old,
                                       new=e.new, data=e.data))
        db.session.commit()
        db.session.expire_all()
        twin = db.session.get(Ticket, twin.id)
        sla_state.refresh(twin, now=now)
        assert sla_state.changed_columns(twin, first) == {}
        db.session.commit()


def test_loyalty_tier_policy_through_the_hook(app, monkeypatch):
    with app.test_request_context():
        c, other = customer(), customer()
        monkeypatch.setattr(sla_state, "TIER_LOOKUPS", [])
        sla_state.register_tier_lookup(lambda cid: "gold" if cid == c.id else "")
        gold = policy(priority="", first=30, loyalty_tier="gold")
        t = tickets.create_ticket(customer=c, subject="gold", priority="low")
        assert t.sla_policy_id == gold.id
        assert tickets.create_ticket(customer=other, subject="x",
                                     priority="low").sla_policy_id != gold.id
        import core.modules

        monkeypatch.setattr(core.modules, "is_active", lambda name: name != "loyalty")
        sla_state.refresh(t)
        assert t.sla_policy_id != gold.id  # the club is off: tiers do not count
