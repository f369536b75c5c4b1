"""Idempotency-Key: replay, conflicting reuse, expiry, and two concurrent first requests."""

import threading
from datetime import timedelta

from sqlalchemy import select, update

from core.api.idempotency import purge_expired_keys
from core.api.models import IdempotencyKey
from core.database import get_setting, utcnow
from core.extensions import db
from tests.core.api.conftest import EXECUTIONS, assert_problem, bearer

URL = "/api/v1/apitest/points"


def _post(client, secret, key, body):
    return client.post(URL, json=body, headers={**bearer(secret), "Idempotency-Key": key})


def test_same_key_same_body_replays_first_response(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    secret = make_token()
    first = _post(client, secret, "k-1", {"customer": "c1", "points": 10})
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = _post(client, secret, "k-1", {"customer": "c1", "points": 10})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.mimetype == "application/json"
    assert len(EXECUTIONS) == 1
    with api_app.app_context():
        assert get_setting(f"apitest.{first.get_json()['id']}") == 10  # the work committed
    other = _post(client, secret, "k-2", {"customer": "c1", "points": 10})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    plain = client.post(URL, json={"customer": "c1", "points": 10}, headers=bearer(secret))
    assert plain.status_code == 201
    assert len(EXECUTIONS) == 3


def test_same_key_different_body_is_422(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    secret = make_token()
    assert _post(client, secret, "k-1", {"customer": "c1", "points": 10}).status_code == 201
    body = assert_problem(_post(client, secret, "k-1", {"customer": "c1", "points": 11}), 422)
    assert "different request" in body["detail"]
    assert len(EXECUTIONS) == 1


def test_keys_belong_to_their_user(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    make_user("second@example.ir", role="admin")
    one, two = make_token(), make_token("second@example.ir")
    assert _post(client, one, "shared", {"customer": "c1", "points": 1}).status_code == 201
    second = _post(client, two, "shared", {"customer": "c1", "points": 1})
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert len(EXECUTIONS) == 2


def test_failed_validation_does_not_use_up_the_key(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    secret = make_token()
    assert_problem(_post(client, secret, "k-1", {"customer": "c1"}), 422)
    assert _post(client, secret, "k-1", {"customer": "c1", "points": 3}).status_code == 201


def test_expired_keys_are_purged_and_can_be_reused(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    secret = make_token()
    assert _post(client, secret, "old", {"customer": "c1", "points": 1}).status_code == 201
    assert _post(client, secret, "new", {"customer": "c1", "points": 1}).status_code == 201
    with api_app.app_context():
        db.session.execute(update(IdempotencyKey).where(IdempotencyKey.key == "old")
                           .values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    reused = _post(client, secret, "old", {"customer": "c1", "points": 1})
    assert reused.status_code == 201 and "Idempotent-Replayed" not in reused.headers
    with api_app.app_context():
        db.session.execute(update(IdempotencyKey).values(
            expires_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
        assert purge_expired_keys() == 2
        assert db.session.execute(select(IdempotencyKey)).first() is None


def test_concurrent_first_requests_execute_once(api_app, make_user, make_token):
    make_user()
    secret = make_token()
    api_app.test_client().get("/api/v1/me", headers=bearer(secret))  # warm the token
    barrier = threading.Barrier(2)
    results = []

    def send():
        client = api_app.test_client()
        barrier.wait()
        results.append(_post(client, secret, "race", {"customer": "c1", "points": 7,
                                                      "delay": 0.5}))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    assert len(EXECUTIONS) == 1
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([201, 201], [201, 409]), [r.data for r in results]
    replayed = [r for r in results if r.headers.get("Idempotent-Replayed") == "true"]
    if statuses == [201, 201]:
        assert len(replayed) == 1
        assert results[0].get_json() == results[1].get_json()
    with api_app.app_context():
        assert len(db.session.execute(select(IdempotencyKey)).all()) == 1
