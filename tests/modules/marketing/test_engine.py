"""Campaign engine: frozen consenting audience, A/B split, pause/resume/cancel, progress,
quiet hours, throttle, scheduling, stats."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.database import utcnow
from core.extensions import db
from core.messaging import opt_out
from core.outbox import OutboxMessage
from modules.marketing import engine, sending
from modules.marketing.models.campaigns import Campaign, Recipient
from tests.modules.marketing.campaign_helpers import campaign, customer, static_segment


def _setup(n=6):
    people = [customer(i) for i in range(n)]
    people.append(customer(100, consent_email=False))  # no consent
    people.append(customer(101, email=False))  # no email
    opted = customer(102)
    people.append(opted)
    db.session.flush()
    opt_out("email", "user102@example.ir")
    return people, static_segment(people)


def _recipients(c):
    return db.session.execute(select(Recipient).where(Recipient.campaign_id == c.id)
                              .order_by(Recipient.id)).scalars().all()


def test_start_freezes_only_consenting_members_with_random_tokens(app):
    with app.app_context():
        people, seg = _setup()
        c = campaign(seg)
        total = engine.start(c, dispatch=False)
        db.session.commit()
        rows = _recipients(c)
        assert total == 6 == c.total and c.status == "sending"
        assert sorted(r.address for r in rows) == sorted(f"user{i}@example.ir" for i in range(6))
        assert len({r.token for r in rows}) == 6 and all(len(r.token) == 32 for r in rows)
        assert engine.progress(c) | {"by_status": None} == {
            "total": 6, "sent": 0, "failed": 0, "suppressed": 0, "pending": 6, "percent": 0,
            "by_status": None}
        with pytest.raises(engine.EngineError):
            engine.start(c, dispatch=False)  # not a draft any more


def test_validation_messages(app):
    with app.app_context():
        _people, seg = _setup(1)
        with pytest.raises(engine.EngineError, match="subject"):
            engine.start(campaign(seg, subject=""), dispatch=False)
        with pytest.raises(engine.EngineError, match="segment"):
            engine.start(campaign(seg, segment_id=None), dispatch=False)
        with pytest.raises(engine.EngineError):
            engine.start(campaign(seg, body_text="{% if %}"), dispatch=False)


def test_pause_stops_claiming_and_resume_finishes_once_each(app):
    with app.app_context():
        _people, seg = _setup(5)
        c = campaign(seg)
        engine.start(c, dispatch=False)
        db.session.commit()
        assert sending.send_batch(c.id, limit=2) == 2
        engine.pause(c)
        db.session.commit()
        assert sending.run(c.id)["sent"] == 0
        assert engine.progress(c)["pending"] == 3
        engine.resume(c, dispatch=False)
        db.session.commit()
        sending.run(c.id)
        c = db.session.get(Campaign, c.id)
        assert c.status == "sent" and c.sent_count == 5
        keys = db.session.scalars(select(OutboxMessage.key)).all()
        assert sorted(keys) == sorted(f"marketing:{r.id}" for r in _recipients(c))
        assert engine.progress(c)["percent"] == 100


def test_consent_is_checked_again_at_send_time(app):
    with app.app_context():
        people, seg = _setup(3)
        c = campaign(seg)
        engine.start(c, dispatch=False)
        db.session.commit()
        people[0].consent_email = False
        opt_out("email", "user1@example.ir")
        db.session.commit()
        sending.run(c.id)
        statuses = {r.address: r.status for r in _recipients(c)}
        assert statuses == {"user0@example.ir": "suppressed", "user1@example.ir": "suppressed",
                            "user2@example.ir": "queued"}
        assert engine.progress(c)["suppressed"] == 2


def test_cancel_skips_the_rest(app):
    with app.app_context():
        _people, seg = _setup(4)
        c = campaign(seg)
        engine.start(c, dispatch=False)
        db.session.commit()
        sending.send_batch(c.id, limit=1)
        engine.cancel(c)
        db.session.commit()
        assert sending.run(c.id)["sent"] == 0
        assert engine.progress(c)["by_status"] == {"queued": 1, "skipped": 3}


def test_quiet_hours_in_tehran_time_wait_until_their_end(app):
    with app.app_context():
        _people, seg = _setup(2)
        c = campaign(seg, quiet_start=22 * 60, quiet_end=8 * 60)
        engine.start(c, dispatch=False)
        db.session.commit()
        night = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 23:30 in Tehran
        result = sending.run(c.id, now=night)
        assert result["status"] == "quiet" and result["sent"] == 0
        assert result["until"] == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)  # 08:00 Tehran
        assert sending.run(c.id, now=datetime(2026, 3, 2, 5, 0, tzinfo=UTC))["sent"] == 2


def test_throttle_per_minute(app):
    with app.app_context():
        _people, seg = _setup(5)
        c = campaign(seg, throttle_per_minute=3)
        engine.start(c, dispatch=False)
        db.session.commit()
        assert sending.run(c.id) == {"status": "throttled", "sent": 3}
        assert engine.progress(c)["pending"] == 2


def test_scheduled_campaign_is_started_by_the_periodic_job(app):
    with app.app_context():
        _people, seg = _setup(2)
        c = campaign(seg)
        with pytest.raises(engine.EngineError):
            engine.schedule(c, utcnow() - timedelta(hours=1))
        engine.schedule(c, utcnow() + timedelta(hours=1))  # not due: a loaded machine is slow
        db.session.commit()
        assert sending.tick()["started"] == 0
        c.scheduled_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert sending.tick()["started"] == 1
        c = db.session.get(Campaign, c.id)
        assert c.status == "sent" and c.sent_count == 2


def test_ab_split_then_winner_goes_to_the_rest(app):
    with app.app_context():
        _people, seg = _setup(20)
        c = campaign(seg, ab_test=True, ab_percent=40, subject_b="B {{ first_name }}",
                     body_text_b="متن ب", ab_metric="open", ab_wait_hours=2)
        engine.start(c, dispatch=False)
        db.session.commit()
        variants = [r.variant for r in _recipients(c)]
        assert variants.count("a") == 4 and variants.count("b") == 4 and variants.count("") == 12
        sending.run(c.id)
        assert engine.progress(c)["pending"] == 12 and c.status == "sending"
        for r in _recipients(c):
            if r.variant == "b" and r.status == "queued":
                r.opened_at, r.opens = utcnow(), 1
        db.session.commit()
        later = utcnow() + timedelta(hours=3)
        sending.run(c.id, now=later)
        c = db.session.get(Campaign, c.id)
        assert c.ab_winner == "b" and c.status == "sent"
        final = [r.variant for r in _recipients(c)]
        assert final.count("b") == 16 and final.count("a") == 4
        stats = engine.stats(c)
        assert stats["variants"]["b"]["unique_opens"] == 4 and stats["sent"] == 20
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 20
