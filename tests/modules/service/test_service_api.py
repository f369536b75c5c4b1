"""The tickets API: list with filters, create, patch, replies; problem+json; scope."""

import pytest

from tests.modules.service.ticket_helpers import bearer_for, make_customer, make_ticket, user_id


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def desk(app, make_user):
    make_user("ali@example.ir", role="agent", seats=["service"])
    make_user("sara@example.ir", role="agent", seats=["service"])
    ids = {"customer": make_customer(app, "ali@example.ir", last_name="Rahimi"),
           "sara_customer": make_customer(app, "sara@example.ir", last_name="Karimi")}
    ids["sara_ticket"] = make_ticket(app, ids["sara_customer"], "sara@example.ir",
                                     subject="Sara's")
    return ids


def test_create_patch_reply_and_list(app, client, desk):
    auth = bearer_for(app, "ali@example.ir")
    created = client.post("/api/v1/service/tickets", headers=auth, json={
        "customer_id": desk["customer"], "subject": "Router down", "body": "No internet",
        "type": "complaint", "priority": "high", "serial": "RT-9"})
    assert created.status_code == 201, created.json
    ticket = created.json
    assert ticket["reference"] == f"T-{ticket['id']:06d}"
    assert (ticket["status"], ticket["channel"]) == ("new", "api")
    assert ticket["owner_id"] == user_id(app, "ali@example.ir")  # else they could not see it
    tid = ticket["id"]
    me = user_id(app, "ali@example.ir")
    patched = client.patch(f"/api/v1/service/tickets/{tid}", headers=auth,
                           json={"owner_id": me, "priority": "urgent", "status": "open"})
    assert patched.status_code == 200, patched.json
    assert (patched.json["owner_id"], patched.json["priority"], patched.json["status"]) == (
        me, "urgent", "open")
    from tests.modules.service.ticket_helpers import make_team

    team = make_team(app, "Support")
    teamed = client.patch(f"/api/v1/service/tickets/{tid}", headers=auth, json={"team_id": team})
    assert (teamed.json["team_id"], teamed.json["owner_id"]) == (team, me)
    cleared = client.patch(f"/api/v1/service/tickets/{tid}", headers=auth, json={"team_id": None})
    assert (cleared.json["team_id"], cleared.json["owner_id"]) == (None, me)
    note = client.post(f"/api/v1/service/tickets/{tid}/replies", headers=auth,
                       json={"kind": "internal", "body": "check the line"})
    reply = client.post(f"/api/v1/service/tickets/{tid}/replies", headers=auth,
                        json={"body": "A technician is on the way"})
    assert note.status_code == reply.status_code == 201
    replies = client.get(f"/api/v1/service/tickets/{tid}/replies", headers=auth).json
    assert [(r["kind"], r["body"]) for r in replies] == [
        ("customer", "No internet"), ("internal", "check the line"),
        ("public", "A technician is on the way")]
    listed = client.get("/api/v1/service/tickets?q=RT-9", headers=auth).json
    assert [t["id"] for t in listed["items"]] == [tid]
    mine = client.get("/api/v1/service/tickets?assignee=me&status=open_ones", headers=auth)
    assert [t["id"] for t in mine.json["items"]] == [tid]


def test_scope_and_problems(app, client, desk):
    auth = bearer_for(app, "ali@example.ir")
    sara = desk["sara_ticket"]
    assert client.get(f"/api/v1/service/tickets/{sara}", headers=auth).status_code == 404
    assert client.patch(f"/api/v1/service/tickets/{sara}", headers=auth,
                        json={"status": "closed"}).status_code == 404
    assert client.get(f"/api/v1/service/tickets/{sara}/replies",
                      headers=auth).status_code == 404
    bad = client.post("/api/v1/service/tickets", headers=auth,
                      json={"customer_id": desk["customer"], "subject": "x",
                            "priority": "whenever"})
    assert bad.status_code == 422
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert "priority" in str(bad.json)
    foreign = client.post("/api/v1/service/tickets", headers=auth,
                          json={"customer_id": desk["sara_customer"], "subject": "x"})
    assert foreign.status_code == 422 and "customer_id" in str(foreign.json)
    assert foreign.headers["Content-Type"].startswith("application/problem+json")
    listed = client.get("/api/v1/service/tickets", headers=auth).json
    assert sara not in [t["id"] for t in listed["items"]]
    empty = client.post(f"/api/v1/service/tickets/{sara}/replies", headers=auth, json={})
    assert empty.status_code in (404, 422)


def test_inactive_module_answers_404(app, client, desk, monkeypatch):
    import core.modules

    auth = bearer_for(app, "ali@example.ir")
    real = core.modules.is_active
    monkeypatch.setattr(core.modules, "is_active", lambda name: name != "service" and real(name))
    assert client.get("/api/v1/service/tickets", headers=auth).status_code == 404


def test_a_retried_reply_with_the_same_key_is_sent_once(app, client, desk):
    auth = bearer_for(app, "ali@example.ir")
    tid = client.post("/api/v1/service/tickets", headers=auth, json={
        "customer_id": desk["customer"], "subject": "Twice?"}).json["id"]
    keyed = {**auth, "Idempotency-Key": "reply-1"}
    first = client.post(f"/api/v1/service/tickets/{tid}/replies", headers=keyed,
                        json={"body": "Once only"})
    again = client.post(f"/api/v1/service/tickets/{tid}/replies", headers=keyed,
                        json={"body": "Once only"})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    replies = client.get(f"/api/v1/service/tickets/{tid}/replies", headers=auth).json
    assert [r["body"] for r in replies] == ["Once only"]
