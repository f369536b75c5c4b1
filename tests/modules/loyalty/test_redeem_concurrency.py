"""Redemptions at once through the API, each thread with its own client and connection, on the
test database (a file SQLite database; PostgreSQL in the CI pass): 100 redemptions of 10
points against 100 points → exactly 10 succeed; one Idempotency-Key sent by many clients at
once redeems once and every one of them gets the same answer."""

import threading

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member
from tests.modules.service.ticket_helpers import bearer_for

CROWD = 100


@pytest.fixture
def app_overrides(database_uri):
    # a pool for the crowd (PostgreSQL allows 100 connections in all: the rest wait their turn)
    return {"BABEL_DEFAULT_LOCALE": "en",
            "SQLALCHEMY_ENGINE_OPTIONS": {**database_uri[1], "pool_size": 30,
                                          "max_overflow": 0, "pool_timeout": 120}}


@pytest.fixture
def rich(app, make_user):
    from modules.loyalty import ledger

    make_user("pos@example.ir", role="admin", seats=["loyalty"])
    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 60, reason="first", reference="a", pending_days=0)
        ledger.earn(member(member_id), 40, reason="second", reference="b", pending_days=0)
        db.session.commit()
    return member_id, bearer_for(app, "pos@example.ir")


def _all_at_once(app, count, send):
    barrier = threading.Barrier(count)
    answers = [None] * count

    def worker(n):
        client = app.test_client()
        barrier.wait()
        try:
            answers[n] = send(client, n)
        except Exception as exc:  # noqa: BLE001 - the assertion names what went wrong
            answers[n] = exc

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return answers


def _redeems(app, member_id) -> int:
    from modules.loyalty.models.ledger import Entry

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Entry).where(
            Entry.member_id == member_id, Entry.kind == "redeem")).scalar_one()


def test_hundred_redemptions_against_ten_affordable(app, rich):
    member_id, auth = rich

    def send(client, n):
        answer = client.post("/api/v1/loyalty/transactions", headers=auth, json={
            "type": "redeem", "member_id": member_id, "points": 10, "reference": f"pos-{n}"})
        return answer.status_code, answer.get_json()

    answers = _all_at_once(app, CROWD, send)
    statuses = [a[0] if isinstance(a, tuple) else repr(a) for a in answers]
    assert statuses.count(201) == 10, statuses
    assert statuses.count(409) == CROWD - 10, statuses
    balances = sorted(body["balance"] for status, body in answers if status == 201)
    assert balances == list(range(0, 100, 10))  # each success saw the one before it
    refusal = next(body for status, body in answers if status == 409)
    assert refusal["detail"] == "Not enough points: 10 wanted, 0 available."
    assert _redeems(app, member_id) == 10
    with app.app_context():
        assert member(member_id).balance == 0
        assert member(member_id).lifetime_redeemed == 100
        assert_ledger_ok(member_id)


def test_one_key_sent_at_once_redeems_once(app, rich):
    member_id, auth = rich
    keyed = {**auth, "Idempotency-Key": "till-3-sale-881"}
    body = {"type": "redeem", "member_id": member_id, "points": 25, "reference": "sale-881"}

    def send(client, _n):
        answer = client.post("/api/v1/loyalty/transactions", headers=keyed, json=body)
        return answer.status_code, answer.get_data()

    answers = _all_at_once(app, 12, send)
    assert all(isinstance(a, tuple) for a in answers), answers
    assert {status for status, _body in answers} == {201}, answers
    assert len({data for _status, data in answers}) == 1  # the same answer for everyone
    assert _redeems(app, member_id) == 1
    with app.app_context():
        assert member(member_id).balance == 75
        assert_ledger_ok(member_id)
    # and sent again later, it replays
    again = app.test_client().post("/api/v1/loyalty/transactions", headers=keyed, json=body)
    assert (again.status_code, again.get_data()) == (201, answers[0][1])
    assert again.headers["Idempotent-Replayed"] == "true"
