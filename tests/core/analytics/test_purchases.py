"""Purchases: the service (idempotent by key), the purchase_recorded listener, the API."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from core.analytics.models import Purchase
from core.analytics.services import PurchaseError, record_purchase
from core.events import emit, purchase_recorded
from core.extensions import db
from tests.core.analytics.conftest import add_customers
from tests.core.api.conftest import assert_problem, bearer, make_token  # noqa: F401

WHEN = datetime(2024, 3, 1, 10, 30, tzinfo=UTC)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _count() -> int:
    return db.session.execute(select(func.count()).select_from(Purchase)).scalar()


def test_record_purchase_is_idempotent_by_key(app):
    with app.app_context():
        add_customers([7])
        tehran = timezone(timedelta(hours=3, minutes=30))
        first = record_purchase(7, 120_000, WHEN.astimezone(tehran), "pos", "R-1", key="pos:1")
        db.session.commit()
        again = record_purchase(7, 120_000, WHEN, "pos", "R-1", key="pos:1")
        assert again.id == first.id and _count() == 1
        with pytest.raises(PurchaseError, match="already used for another purchase"):
            record_purchase(7, 99, WHEN, "pos", key="pos:1")
        record_purchase(7, 120_000, WHEN, "pos", "R-1")  # no key: a second purchase
        db.session.commit()
        assert _count() == 2
        stored = db.session.get(Purchase, first.id)
        assert stored.occurred_at.replace(tzinfo=UTC) == WHEN  # stored in UTC


@pytest.mark.parametrize("kwargs, reason", [
    ({"customer_id": 0}, "customer_id must be a positive"),
    ({"customer_id": 2}, "there is no customer 2"),
    ({"amount": 1.5}, "amount must be a whole number"),
    ({"source": "web"}, "source must be one of"),
    ({"occurred_at": "2024-01-01"}, "occurred_at must be a date and time"),
])
def test_record_purchase_refuses_bad_input(app, kwargs, reason):
    args = {"customer_id": 1, "amount": 100, "occurred_at": WHEN, "source": "api", **kwargs}
    with app.app_context():
        add_customers([1])
        with pytest.raises(PurchaseError, match=reason):
            record_purchase(**args)


def test_listener_records_purchase_recorded_once_per_key(app):
    with app.app_context():
        add_customers([3])
        for _ in range(2):
            emit(purchase_recorded, customer_id=3, amount=450_000, occurred_at=WHEN,
                 reference="INV-1402-17", key="invoice:17")
            db.session.commit()
        purchase = db.session.execute(select(Purchase)).scalar_one()
    assert (purchase.customer_id, purchase.amount, purchase.source, purchase.reference,
            purchase.idempotency_key) == (3, 450_000, "sales", "INV-1402-17", "invoice:17")


def test_api_post_replays_with_the_same_idempotency_key(app, make_user, make_token):  # noqa: F811
    client = app.test_client()
    make_user()
    secret = make_token()
    with app.app_context():
        add_customers([5])
        db.session.commit()
    body = {"customer_id": 5, "amount": 250_000, "occurred_at": "2024-03-01T14:00:00+03:30",
            "reference": "POS-9", "source": "pos"}
    headers = {**bearer(secret), "Idempotency-Key": "till-1-9"}
    first = client.post("/api/v1/purchases", json=body, headers=headers)
    assert first.status_code == 201, first.data
    again = client.post("/api/v1/purchases", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert first.get_json()["occurred_at"].startswith("2024-03-01T10:30:00")
    plain = client.post("/api/v1/purchases", json={**body, "key": "k2"}, headers=bearer(secret))
    assert plain.status_code == 201
    listed = client.get("/api/v1/purchases?customer_id=5", headers=bearer(secret))
    assert listed.status_code == 200
    assert sorted(p["id"] for p in listed.get_json()) == sorted(
        [first.get_json()["id"], plain.get_json()["id"]])
    assert_problem(client.get("/api/v1/purchases?customer_id=6", headers=bearer(secret)), 404)


def test_api_refuses_invalid_purchases_with_problem_json(app, make_user, make_token):  # noqa: F811
    client = app.test_client()
    make_user()
    secret = make_token()
    body = assert_problem(client.post("/api/v1/purchases", json={
        "customer_id": -1, "amount": "lots", "occurred_at": "yesterday"},
        headers=bearer(secret)), 422)
    assert {"customer_id", "amount", "occurred_at"} <= set(body["errors"]["json"])
    naive = assert_problem(client.post("/api/v1/purchases", json={
        "customer_id": 1, "amount": 1, "occurred_at": "2024-03-01T10:00:00"},
        headers=bearer(secret)), 422)
    assert "occurred_at" in naive["errors"]["json"]
    missing = assert_problem(client.post("/api/v1/purchases", json={
        "customer_id": 99, "amount": 1, "occurred_at": "2024-03-01T10:00:00Z"},
        headers=bearer(secret)), 422)
    assert missing["detail"] == "there is no customer 99"
    assert_problem(client.get("/api/v1/purchases", headers=bearer(secret)), 422)
    with app.app_context():
        assert _count() == 0


def test_api_applies_the_customer_record_scope(app, make_user, make_token):  # noqa: F811
    """An agent with scope "own" cannot record or read purchases of another's customer."""
    from core.auth.models import User
    from core.customers.models import Customer

    client = app.test_client()
    make_user("agent@example.ir", role="agent")
    make_user("other@example.ir", role="agent")
    secret = make_token("agent@example.ir")
    with app.app_context():
        users = {u.email: u.id for u in db.session.execute(select(User)).scalars()}
        db.session.add_all([Customer(id=1, display_name="Mine", owner_id=users["agent@example.ir"]),
                            Customer(id=2, display_name="Theirs",
                                     owner_id=users["other@example.ir"])])
        db.session.commit()
    body = {"amount": 1000, "occurred_at": "2024-03-01T10:00:00Z"}
    assert client.post("/api/v1/purchases", json={**body, "customer_id": 1},
                       headers=bearer(secret)).status_code == 201
    assert_problem(client.post("/api/v1/purchases", json={**body, "customer_id": 2},
                               headers=bearer(secret)), 404)
    assert len(client.get("/api/v1/purchases?customer_id=1", headers=bearer(secret))
               .get_json()) == 1
    assert_problem(client.get("/api/v1/purchases?customer_id=2", headers=bearer(secret)), 404)
    with app.app_context():
        assert _count() == 1
