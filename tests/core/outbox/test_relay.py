"""The outbox relay: delivery, retries with backoff, dead letters, per-aggregate order."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import outbox
from core.database import utcnow
from core.extensions import db
from core.outbox import OutboxMessage
from core.outbox.relay import backoff_seconds

DELIVERED: list[tuple[str, dict]] = []
FAIL: dict[str, int] = {}  # payload "name" -> failures still to produce


@outbox.handler("test.record")
def record_delivery(payload: dict, message) -> None:
    name = payload.get("name", "")
    if FAIL.get(name, 0) > 0:
        FAIL[name] -= 1
        raise ConnectionError(f"remote system is down for {name}")
    DELIVERED.append((name, payload))


@pytest.fixture(autouse=True)
def _reset():
    DELIVERED.clear()
    FAIL.clear()


@pytest.fixture
def app_overrides():
    return {"OUTBOX_MAX_ATTEMPTS": 4, "OUTBOX_BACKOFF_BASE": 30, "OUTBOX_BACKOFF_CAP": 3600}


def names():
    return [name for name, _ in DELIVERED]


def test_enqueue_joins_the_current_transaction(app):
    with app.app_context():
        outbox.enqueue("test.record", {"name": "lost"})
        db.session.rollback()
        outbox.enqueue("test.record", {"name": "kept"})
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
        assert outbox.relay_once() == {"delivered": 1, "retry": 0, "dead": 0, "waiting": 0}
        assert names() == ["kept"]
        message = db.session.scalar(select(OutboxMessage))
        assert message.status == "delivered" and message.attempts == 1
        assert message.delivered_at is not None


def test_same_idempotency_key_gives_one_message(app):
    with app.app_context():
        first = outbox.enqueue("test.record", {"name": "a"}, key="invoice-7")
        db.session.commit()
        second = outbox.enqueue("test.record", {"name": "a-again"}, key="invoice-7")
        db.session.commit()
        assert first.id == second.id
        outbox.relay_once()
        outbox.relay_once(now=utcnow() + timedelta(hours=2))
        assert names() == ["a"]


def test_payload_must_be_json(app):
    with app.app_context(), pytest.raises(TypeError):
        outbox.enqueue("test.record", {"when": object()})


def test_failures_back_off_then_die_then_retry_delivers(app):
    with app.app_context():
        FAIL["flaky"] = 10
        message = outbox.enqueue("test.record", {"name": "flaky"})
        db.session.commit()
        now = utcnow()
        delays = []
        for attempt in range(1, 5):
            counts = outbox.relay_once(now=now)
            db.session.expire_all()
            message = db.session.get(OutboxMessage, message.id)
            assert message.attempts == attempt
            assert "remote system is down for flaky" in message.last_error
            if attempt < 4:
                assert counts["retry"] == 1 and message.status == "pending"
                due = message.next_attempt_at.replace(tzinfo=None)
                delay = (due - now.replace(tzinfo=None)).total_seconds()
                ceiling = 30 * 2 ** (attempt - 1)
                assert ceiling / 2 <= delay <= ceiling, (attempt, delay)
                delays.append(delay)
                # not due yet: a relay just before the next attempt leaves it alone
                assert outbox.relay_once(now=now + timedelta(seconds=delay - 1))["retry"] == 0
                now = now + timedelta(seconds=delay + 1)
            else:
                assert counts["dead"] == 1 and message.status == "dead"
        assert delays[0] < delays[2]
        # dead stays dead
        assert outbox.relay_once(now=now + timedelta(days=1)) == {
            "delivered": 0, "retry": 0, "dead": 0, "waiting": 0}
        FAIL["flaky"] = 0
        assert outbox.retry(message.id)
        db.session.commit()
        message = db.session.get(OutboxMessage, message.id)
        assert message.status == "pending" and message.attempts == 0
        assert outbox.relay_once()["delivered"] == 1
        assert names() == ["flaky"]


def test_retry_all_dead_and_counts(app):
    with app.app_context():
        FAIL.update(a=99, b=99)
        outbox.enqueue("test.record", {"name": "a"})
        outbox.enqueue("test.record", {"name": "b"})
        outbox.enqueue("test.record", {"name": "c"})
        db.session.commit()
        now = utcnow()
        for _ in range(4):
            outbox.relay_once(now=now)
            now += timedelta(hours=2)
        assert outbox.status_counts() == {"pending": 0, "delivered": 1, "dead": 2}
        FAIL.clear()
        assert outbox.retry_all_dead() == 2
        db.session.commit()
        outbox.relay_once()
        assert sorted(names()) == ["a", "b", "c"]
        assert outbox.status_counts() == {"pending": 0, "delivered": 3, "dead": 0}


def test_per_aggregate_order_waits_for_the_older_message(app):
    with app.app_context():
        FAIL["a1"] = 1
        outbox.enqueue("test.record", {"name": "a1"}, aggregate="invoice:1")
        outbox.enqueue("test.record", {"name": "b1"}, aggregate="invoice:2")
        outbox.enqueue("test.record", {"name": "a2"}, aggregate="invoice:1")
        outbox.enqueue("test.record", {"name": "free"})
        db.session.commit()
        counts = outbox.relay_once()
        # a1 failed, so a2 (same aggregate, younger) was not attempted; others went out
        assert counts["retry"] == 1
        assert names() == ["b1", "free"]
        outbox.relay_once(now=utcnow() + timedelta(hours=2))
        assert names() == ["b1", "free", "a1", "a2"]


def test_unknown_kind_fails_with_a_clear_error(app):
    with app.app_context():
        message = outbox.enqueue("test.nobody", {})
        db.session.commit()
        outbox.relay_once()
        message = db.session.get(OutboxMessage, message.id)
        assert "no handler is registered for outbox kind 'test.nobody'" in message.last_error


def test_a_second_handler_for_a_kind_is_refused():
    with pytest.raises(ValueError, match="already has a handler"):
        outbox.handler("test.record")(lambda payload, message: None)


@given(attempts=st.integers(1, 40), base=st.floats(1, 600), cap=st.floats(1, 86400))
def test_backoff_is_exponential_capped_and_jittered(attempts, base, cap):
    delay = backoff_seconds(attempts, base, cap)
    ceiling = min(cap, base * 2 ** (attempts - 1))
    assert ceiling / 2 <= delay <= ceiling
