"""Automations: each kind sends once per period however often the job runs, only with consent,
on the right Jalali day in Tehran; win-back only to customers at risk."""

from datetime import UTC, date, datetime, timedelta

import jdatetime
from sqlalchemy import select

from core.extensions import db


def _customer(name="مریم", mobile="09121234567", consent=True, **fields):
    from core.customers.services import create_customer

    return create_customer(first_name=name, last_name="احمدی", mobiles=[mobile] if mobile else [],
                           consent_sms=consent, **fields)


def _auto(kind, **fields):
    from modules.marketing.models.automations import Automation

    fields.setdefault("body_text", "سلام {{ first_name }}")
    auto = Automation(name=kind, kind=kind, active=True, channel="sms", **fields)
    db.session.add(auto)
    db.session.commit()
    return auto


def _outbox():
    from core.outbox.models import OutboxMessage

    return db.session.execute(select(OutboxMessage).where(
        OutboxMessage.key.like("marketing.automation:%")).order_by(OutboxMessage.id)
    ).scalars().all()


def _sends(auto):
    from modules.marketing.models.automations import AutomationSend

    return db.session.execute(select(AutomationSend).where(
        AutomationSend.automation_id == auto.id).order_by(AutomationSend.id)).scalars().all()


def _tehran(y, m, d, hour=10):
    """A UTC instant on Jalali y/m/d at ``hour`` Tehran time (UTC+3:30)."""
    g = jdatetime.date(y, m, d).togregorian()
    return datetime(g.year, g.month, g.day, hour, tzinfo=UTC) - timedelta(hours=3, minutes=30)


def test_birthday_on_the_jalali_day_in_tehran_once_per_year(app):
    from modules.marketing.automations import run_all

    with app.app_context():
        born = jdatetime.date(1370, 5, 14).togregorian()
        maryam = _customer(birthday=born)
        _customer("رضا", "09121112222", birthday=jdatetime.date(1370, 5, 15).togregorian())
        _customer("سارا", "09123334444", consent=False, birthday=born)  # no consent
        auto = _auto("birthday")
        # 23:00 UTC on 13 Mordad is already 14 Mordad in Tehran
        g = jdatetime.date(1404, 5, 13).togregorian()
        day_before_utc = datetime(g.year, g.month, g.day, 21, tzinfo=UTC)
        assert run_all(day_before_utc - timedelta(hours=2)) == {auto.id: 0}
        for _ in range(3):
            run_all(day_before_utc)
        sends = _sends(auto)
        assert [(s.customer_id, s.period, s.status) for s in sends] == [
            (maryam.id, "1404", "sent")]
        messages = _outbox()
        assert len(messages) == 1 and messages[0].payload["text"] == "سلام مریم"
        assert messages[0].payload["to"] == "+989121234567"
        run_all(_tehran(1405, 5, 14))  # next year: again
        assert [s.period for s in _sends(auto)] == ["1404", "1405"]


def test_anniversary_and_inactive_automations(app):
    from modules.marketing.automations import run_all

    with app.app_context():
        c = _customer(anniversary=jdatetime.date(1399, 9, 30).togregorian())
        auto = _auto("anniversary")
        off = _auto("anniversary")
        off.active = False
        db.session.commit()
        run_all(_tehran(1404, 9, 30))
        assert [s.customer_id for s in _sends(auto)] == [c.id]
        assert _sends(off) == []


def test_occasion_on_first_farvardin_once(app):
    from modules.marketing.automations import run_all

    with app.app_context():
        a, b = _customer(), _customer("رضا", "09121112222")
        _customer("بی‌شماره", None)
        nowruz = _auto("occasion", occasion_month=1, occasion_day=1,
                       body_text="نوروز مبارک {{ first_name }}")
        run_all(_tehran(1404, 12, 29))
        assert _sends(nowruz) == []
        for hour in (1, 9, 20):
            run_all(_tehran(1405, 1, 1, hour))
        assert sorted(s.customer_id for s in _sends(nowruz)) == sorted([a.id, b.id])
        assert {s.period for s in _sends(nowruz)} == {"1405"}
        assert sorted(m.payload["text"] for m in _outbox()) == ["نوروز مبارک رضا",
                                                                 "نوروز مبارک مریم"]


def test_opted_out_number_is_logged_as_suppressed(app):
    from core.messaging import opt_out
    from modules.marketing.automations import run_all

    with app.app_context():
        c = _customer()
        opt_out("sms", "+989121234567")
        auto = _auto("occasion", occasion_month=9, occasion_day=30)
        run_all(_tehran(1404, 9, 30))
        run_all(_tehran(1404, 9, 30, 12))
        assert [(s.customer_id, s.status) for s in _sends(auto)] == [(c.id, "suppressed")]
        assert _outbox() == []


def test_welcome_series_steps_once_each(app):
    from modules.marketing.automations import run_all

    with app.app_context():
        now = datetime(2026, 3, 1, 9, tzinfo=UTC)
        new = _customer()
        new.created_at = now - timedelta(days=1, hours=2)
        old = _customer("قدیمی", "09121112222")
        old.created_at = now - timedelta(days=60)
        step1 = _auto("welcome", step=1, delay_days=0, body_text="خوش آمدید")
        step2 = _auto("welcome", step=2, delay_days=3, body_text="قدم دوم")
        for _ in range(3):
            run_all(now)
        assert [(s.customer_id, s.period) for s in _sends(step1)] == [(new.id, "welcome-1")]
        assert _sends(step2) == []
        for _ in range(3):
            run_all(now + timedelta(days=2, hours=3))
        assert [(s.customer_id, s.period) for s in _sends(step2)] == [(new.id, "welcome-2")]
        assert len(_sends(step1)) == 1
        assert [m.payload["text"] for m in _outbox()] == ["خوش آمدید", "قدم دوم"]


def test_winback_only_at_risk_and_once_per_delay(app):
    from core.analytics.models import CustomerScore
    from modules.marketing.automations import run_all

    with app.app_context():
        risky, loyal = _customer(), _customer("وفادار", "09121112222")
        for c, segment in ((risky, "at_risk"), (loyal, "champions")):
            db.session.add(CustomerScore(customer_id=c.id, recency_days=100, frequency=3,
                                         monetary=1000, r_score=2, f_score=3, m_score=3,
                                         segment=segment))
        auto = _auto("winback", delay_days=30)
        now = datetime(2026, 3, 1, 9, tzinfo=UTC)
        for day in (0, 0, 1, 10, 29):
            run_all(now + timedelta(days=day))
        assert [s.customer_id for s in _sends(auto)] == [risky.id]
        run_all(now + timedelta(days=31))
        assert [s.customer_id for s in _sends(auto)] == [risky.id, risky.id]


def test_email_channel_needs_email_consent(app):
    from modules.marketing.automations import run_all

    with app.app_context():
        yes = _customer(emails=["a@example.ir"], consent_email=True)
        _customer("بدون", "09121112222", emails=["b@example.ir"], consent_email=False)
        auto = _auto("occasion", occasion_month=1, occasion_day=1)
        auto.channel, auto.subject = "email", "نوروز {{ first_name }}"
        db.session.commit()
        run_all(_tehran(1405, 1, 1))
        assert [s.customer_id for s in _sends(auto)] == [yes.id]
        [message] = _outbox()
        assert message.payload["subject"] == "نوروز مریم" and message.payload["to"] == [
            "a@example.ir"]


def test_esfand_thirty_birthday_in_a_common_year(app):
    from modules.marketing.automations import run_all

    with app.app_context():
        c = _customer(birthday=jdatetime.date(1399, 12, 30).togregorian())
        auto = _auto("birthday")
        assert not jdatetime.date(1404, 1, 1).isleap()
        run_all(_tehran(1404, 12, 29))
        assert [s.customer_id for s in _sends(auto)] == [c.id]
        assert date(2026, 3, 20) == jdatetime.date(1404, 12, 29).togregorian()


def test_an_automation_with_a_segment_sends_only_to_its_members(app):
    from modules.marketing.automations import run_all
    from modules.marketing.models.segments import Segment, SegmentMember

    with app.app_context():
        inside, _outside = _customer(), _customer("رضا", "09121112222")
        segment = Segment(name="VIP", kind="static", rules={})
        db.session.add(segment)
        db.session.flush()
        db.session.add(SegmentMember(segment_id=segment.id, customer_id=inside.id))
        auto = _auto("occasion", occasion_month=9, occasion_day=30, segment_id=segment.id)
        run_all(_tehran(1404, 9, 30))
        assert [s.customer_id for s in _sends(auto)] == [inside.id]


def test_a_send_claimed_by_a_concurrent_run_is_not_sent_again(app, monkeypatch):
    from modules.marketing import automations
    from modules.marketing.models.automations import AutomationSend

    with app.app_context():
        c = _customer()
        auto = _auto("occasion", occasion_month=1, occasion_day=1)
        real = automations.candidate_ids

        def racing(automation, now):
            ids = real(automation, now)
            # another worker claims it after this run read what was already sent
            db.session.execute(AutomationSend.__table__.insert().values(
                automation_id=automation.id, customer_id=c.id, period="1405",
                status="sent", sent_at=now))
            return ids

        monkeypatch.setattr(automations, "candidate_ids", racing)
        assert automations.run_automation(auto, _tehran(1405, 1, 1)) == 0
        assert len(_sends(auto)) == 1 and _outbox() == []


def test_the_hourly_job_is_registered_and_idle_while_unlicensed(app, monkeypatch):
    import core.modules
    from core.jobs import periodic_jobs
    from modules.marketing.automations import run_automations_job

    assert periodic_jobs()["marketing.automations"].path == \
        "modules.marketing.automations:run_automations_job"
    with app.app_context():
        _customer()
        auto = _auto("winback", delay_days=30)
        assert run_automations_job() == {auto.id: 0}
        monkeypatch.setattr(core.modules, "is_active", lambda name: name != "marketing")
        assert run_automations_job() is None
