"""The club API: enrol, look members up, earn through the rules, redeem, adjust, rewards;
problem+json with field messages, 409 with the numbers, Idempotency-Key, scope, inactive."""

import pytest

from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member
from tests.modules.service.ticket_helpers import bearer_for, make_customer


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def shop(app, make_user):
    make_user("ali@example.ir", role="agent", seats=["loyalty"])
    make_user("sara@example.ir", role="agent", seats=["loyalty"])
    make_user("boss@example.ir", role="admin", seats=["loyalty"])
    from modules.loyalty.models.rules import Rule

    with app.app_context():  # one point per 10,000 rials
        db.session.add(Rule(name="Base", kind="spend", points=1, per_amount=10_000))
        db.session.commit()
    return {"ali": bearer_for(app, "ali@example.ir"), "sara": bearer_for(app, "sara@example.ir"),
            "boss": bearer_for(app, "boss@example.ir")}


def _give(app, member_id, points):
    from modules.loyalty import ledger

    with app.test_request_context():
        ledger.earn(member(member_id), points, reason="seed", pending_days=0)
        db.session.commit()


def test_enrol_by_mobile_creates_the_customer_only_with_a_name(app, client, shop):
    auth = shop["ali"]
    nameless = client.post("/api/v1/loyalty/members", headers=auth,
                           json={"mobile": "09121234567"})
    assert nameless.status_code == 422
    assert nameless.mimetype == "application/problem+json"
    assert "give a name" in nameless.json["errors"]["json"]["last_name"][0] \
        if "json" in nameless.json["errors"] else nameless.json["errors"]["last_name"][0]
    created = client.post("/api/v1/loyalty/members", headers=auth,
                          json={"mobile": "۰۹۱۲۱۲۳۴۵۶۷", "first_name": "Reza",
                                "last_name": "Ahmadi"})
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["name"], body["balance"], body["pending"], body["status"]) == (
        "Reza Ahmadi", 0, 0, "active")
    assert body["enrolled_via"] == "api" and len(body["card_number"]) == 16
    again = client.post("/api/v1/loyalty/members", headers=auth, json={"mobile": "+989121234567"})
    assert again.status_code == 200 and again.json["id"] == body["id"]
    by_id = client.post("/api/v1/loyalty/members", headers=auth,
                        json={"customer_id": body["customer_id"]})
    assert (by_id.status_code, by_id.json["id"]) == (200, body["id"])
    from core.customers.models import Customer

    with app.app_context():
        assert db.session.query(Customer).count() == 1
    listed = client.get(f"/api/v1/loyalty/members?q={body['card_number']}", headers=auth).json
    assert [m["id"] for m in listed["items"]] == [body["id"]]
    assert client.get("/api/v1/loyalty/members?q=Ahmadi", headers=auth).json["items"][0][
        "card_number"] == body["card_number"]


def test_earn_redeem_adjust_through_transactions(app, client, shop):
    customer = make_customer(app, "ali@example.ir", last_name="Karimi",
                             mobiles=["09351112233"])
    with app.test_request_context():
        from core.customers.models import Customer
        from modules.loyalty.members import enrol

        member_id = enrol(db.session.get(Customer, customer)).id
        card = member(member_id).card_number
        db.session.commit()
    auth = shop["ali"]
    earned = client.post("/api/v1/loyalty/transactions", headers=auth, json={
        "type": "earn", "card_number": card, "amount": 2_550_000, "reference": "R-1"})
    assert earned.status_code == 201, earned.json
    assert (earned.json["points"], earned.json["balance"], earned.json["pending"]) == (255, 255, 0)
    twice = client.post("/api/v1/loyalty/transactions", headers=auth, json={
        "type": "earn", "mobile": "0935 111 2233", "amount": 2_550_000, "reference": "R-1"})
    assert (twice.status_code, twice.json["balance"]) == (201, 255)  # a receipt earns once
    redeemed = client.post("/api/v1/loyalty/transactions", headers=auth, json={
        "type": "redeem", "member_id": member_id, "points": 55, "reference": "POS-9"})
    assert redeemed.status_code == 201
    assert (redeemed.json["points"], redeemed.json["balance"]) == (-55, 200)
    assert redeemed.json["entries"][0]["reference"] == "POS-9"
    too_much = client.post("/api/v1/loyalty/transactions", headers=auth, json={
        "type": "redeem", "member_id": member_id, "points": 201})
    assert too_much.status_code == 409
    assert too_much.mimetype == "application/problem+json"
    assert too_much.json["detail"] == "Not enough points: 201 wanted, 200 available."
    assert (too_much.json["wanted"], too_much.json["available"]) == (201, 200)
    # adjusting needs loyalty.manage (an agent has not), and a reason
    refused = client.post("/api/v1/loyalty/transactions", headers=auth, json={
        "type": "adjust", "member_id": member_id, "points": -10, "reason": "typo"})
    assert refused.status_code == 422 and "manage" in str(refused.json["errors"])
    no_reason = client.post("/api/v1/loyalty/transactions", headers=shop["boss"], json={
        "type": "adjust", "member_id": member_id, "points": -10})
    assert no_reason.status_code == 422 and "why" in str(no_reason.json["errors"])
    fixed = client.post("/api/v1/loyalty/transactions", headers=shop["boss"], json={
        "type": "adjust", "member_id": member_id, "points": -10, "reason": "typo"})
    assert (fixed.status_code, fixed.json["points"], fixed.json["balance"]) == (201, -10, 190)
    history = client.get(f"/api/v1/loyalty/transactions?member_id={member_id}", headers=auth)
    assert [(e["kind"], e["points"], e["balance_after"]) for e in history.json["items"]] == [
        ("adjust", -10, 190), ("redeem", -55, 200), ("earn", 255, 255)]
    only = client.get(f"/api/v1/loyalty/transactions?card_number={card}&kind=redeem",
                      headers=auth).json["items"]
    assert [e["points"] for e in only] == [-55]
    detail = client.get(f"/api/v1/loyalty/members/{member_id}", headers=auth).json
    assert (detail["balance"], detail["lifetime_earned"], detail["lifetime_redeemed"]) == (
        190, 255, 55)
    assert detail["expiring_soon"] == [] and detail["expiring_points"] == 0
    assert_ledger_with(app, member_id)


def assert_ledger_with(app, member_id):
    with app.app_context():
        assert_ledger_ok(member_id)


def test_field_errors_and_unknown_members(app, client, shop):
    auth = shop["ali"]
    member_id = make_member(app, owner_email="ali@example.ir")
    cases = [
        ({"type": "earn", "member_id": member_id, "reference": "x"}, "amount"),
        ({"type": "earn", "member_id": member_id, "amount": 1000}, "reference"),
        ({"type": "redeem", "member_id": member_id}, "points"),
        ({"type": "redeem", "member_id": member_id, "points": -3}, "points"),
        ({"type": "redeem", "points": 3}, "member_id"),
        ({"type": "redeem", "member_id": member_id, "card_number": "1", "points": 3},
         "member_id"),
        ({"type": "redeem", "card_number": "7960000000000000", "points": 3}, "card_number"),
        ({"type": "redeem", "mobile": "hello", "points": 3}, "mobile"),
        ({"type": "gift", "member_id": member_id, "points": 3}, "type"),
    ]
    for body, field in cases:
        answer = client.post("/api/v1/loyalty/transactions", headers=auth, json=body)
        assert answer.status_code == 422, (body, answer.json)
        errors = answer.json["errors"]
        errors = errors.get("json", errors)
        assert field in errors, (body, errors)
    assert client.get("/api/v1/loyalty/members/999999", headers=auth).status_code == 404
    assert_ledger_with(app, member_id)


def test_scope_hides_another_agents_member(app, client, shop):
    mine = make_member(app, owner_email="ali@example.ir", last_name="Mine")
    theirs = make_member(app, owner_email="sara@example.ir", last_name="Theirs")
    _give(app, theirs, 50)
    auth = shop["ali"]
    assert client.get(f"/api/v1/loyalty/members/{theirs}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/loyalty/members/{mine}", headers=auth).status_code == 200
    listed = client.get("/api/v1/loyalty/members", headers=auth).json["items"]
    assert [m["id"] for m in listed] == [mine]
    spent = client.post("/api/v1/loyalty/transactions", headers=auth, json={
        "type": "redeem", "member_id": theirs, "points": 10})
    assert spent.status_code == 422
    with app.app_context():
        assert member(theirs).balance == 50


def test_reader_without_work_permission_cannot_write(app, client, make_user, shop):
    from core.auth.models import Role

    with app.app_context():
        role = Role(name="club_reader", permissions=["loyalty.view"], default_scope="all")
        db.session.add(role)
        db.session.commit()
    make_user("sara@example.ir", role="club_reader", seats=["loyalty"])  # (3 seats only)
    auth = shop["sara"]
    member_id = make_member(app)
    _give(app, member_id, 30)
    assert client.get(f"/api/v1/loyalty/members/{member_id}", headers=auth).json["balance"] == 30
    answer = client.post("/api/v1/loyalty/transactions", headers=auth, json={
        "type": "redeem", "member_id": member_id, "points": 10})
    assert answer.status_code == 403
    with app.app_context():
        assert member(member_id).balance == 30


def test_same_key_redeems_once_and_replays_the_answer(app, client, shop):
    member_id = make_member(app, owner_email="ali@example.ir")
    _give(app, member_id, 100)
    keyed = {**shop["ali"], "Idempotency-Key": "pos-7-redeem"}
    body = {"type": "redeem", "member_id": member_id, "points": 30}
    first = client.post("/api/v1/loyalty/transactions", headers=keyed, json=body)
    again = client.post("/api/v1/loyalty/transactions", headers=keyed, json=body)
    assert first.status_code == again.status_code == 201
    assert first.get_data() == again.get_data()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/loyalty/transactions", headers=keyed,
                        json={**body, "points": 31})
    assert other.status_code == 422
    with app.app_context():
        assert member(member_id).balance == 70
    # a refused redemption replays its 409 too
    keyed = {**shop["ali"], "Idempotency-Key": "pos-7-big"}
    big = {"type": "redeem", "member_id": member_id, "points": 500}
    assert client.post("/api/v1/loyalty/transactions", headers=keyed, json=big).status_code == 409
    assert client.post("/api/v1/loyalty/transactions", headers=keyed, json=big).status_code == 409


def test_rewards_list_and_redeem(app, client, shop):
    from modules.loyalty.models.rewards import Reward

    member_id = make_member(app, owner_email="ali@example.ir")
    _give(app, member_id, 120)
    with app.app_context():
        cheap = Reward(kind="gift_product", name_fa="لیوان", name_en="Mug", cost_points=100,
                       stock=5, active=True)
        dear = Reward(kind="gift_product", name_fa="کوله", name_en="Backpack",
                      cost_points=1000, stock=5, active=True)
        hidden = Reward(kind="gift_product", name_fa="قدیمی", name_en="Old", cost_points=1,
                        active=False)
        db.session.add_all([cheap, dear, hidden])
        db.session.commit()
        cheap_id, dear_id = cheap.id, dear.id
    auth = shop["ali"]
    listed = client.get("/api/v1/loyalty/rewards", headers=auth).json
    assert [(r["name"], r["cost_points"]) for r in listed] == [("Mug", 100), ("Backpack", 1000)]
    keyed = {**auth, "Idempotency-Key": "mug-1"}
    taken = client.post(f"/api/v1/loyalty/rewards/{cheap_id}/redeem", headers=keyed,
                        json={"member_id": member_id})
    assert taken.status_code == 201, taken.get_data(as_text=True)
    assert (taken.json["points"], taken.json["balance"], taken.json["channel"]) == (100, 20, "api")
    replay = client.post(f"/api/v1/loyalty/rewards/{cheap_id}/redeem", headers=keyed,
                         json={"member_id": member_id})
    assert replay.get_data() == taken.get_data()
    poor = client.post(f"/api/v1/loyalty/rewards/{dear_id}/redeem", headers=auth,
                       json={"member_id": member_id})
    assert poor.status_code == 409 and "1,000 wanted, 20 available" in poor.json["detail"]
    missing = client.post("/api/v1/loyalty/rewards/99999/redeem", headers=auth,
                          json={"member_id": member_id})
    assert missing.status_code == 422
    with app.app_context():
        assert member(member_id).balance == 20
        assert_ledger_ok(member_id)


def test_inactive_module_answers_404(app, client, shop, monkeypatch):
    import core.modules

    real = core.modules.is_active
    monkeypatch.setattr(core.modules, "is_active", lambda name: name != "loyalty" and real(name))
    assert client.get("/api/v1/loyalty/members", headers=shop["ali"]).status_code == 404
    assert client.post("/api/v1/loyalty/transactions", headers=shop["ali"], json={
        "type": "redeem", "member_id": 1, "points": 1}).status_code == 404
