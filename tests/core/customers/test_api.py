"""/api/v1/customers: create, list with search and cursor, get, patch, 422 and scope 404."""

import pytest

from tests.conftest import recorded_statements
from tests.core.customers.conftest import bearer, national_code


@pytest.fixture
def app_overrides():
    """English messages, so assertions on problem details do not depend on the catalogs."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def agent(make_user, make_token):
    make_user("a@example.ir", role="agent")
    return bearer(make_token("a@example.ir"))


def _problem(response, status):
    assert response.status_code == status, response.data[:500]
    assert response.mimetype == "application/problem+json"
    return response.get_json()


def test_create_list_get_and_patch(client, agent):
    created = client.post("/api/v1/customers", headers=agent, json={
        "first_name": "علی", "last_name": "كريمي", "mobiles": ["۰۹۱۲ ۳۴۵ ۶۷۸۹"],
        "emails": ["Ali@Example.ir"], "birthday": "1991-08-03",
        "national_code": national_code(), "tags": ["VIP"]})
    assert created.status_code == 201, created.data
    body = created.get_json()
    assert body["display_name"] == "علی كريمي" and body["birthday"] == "1991-08-03"
    assert {"kind": "mobile", "value": "+989123456789", "primary": True} in body["contacts"]
    assert body["tags"] == ["VIP"] and body["owner_id"] is not None
    customer_id = body["id"]

    found = client.get("/api/v1/customers", query_string={"q": "علی کریمی"}, headers=agent)
    assert [c["id"] for c in found.get_json()["items"]] == [customer_id]
    by_mobile = client.get("/api/v1/customers", query_string={"q": "۰۹۱۲ ۳۴۵ ۶۷۸۹"},
                           headers=agent)
    assert [c["id"] for c in by_mobile.get_json()["items"]] == [customer_id]

    assert client.get(f"/api/v1/customers/{customer_id}", headers=agent).get_json()["id"] \
        == customer_id
    patched = client.patch(f"/api/v1/customers/{customer_id}", headers=agent,
                           json={"source": "نمایشگاه", "consent_sms": True})
    assert patched.status_code == 200, patched.data
    assert patched.get_json()["source"] == "نمایشگاه" and patched.get_json()["consent_sms"]
    assert patched.get_json()["national_code"] == national_code()  # untouched


def test_list_pages_with_a_cursor(client, agent):
    ids = [client.post("/api/v1/customers", headers=agent,
                       json={"first_name": f"n{i}"}).get_json()["id"] for i in range(5)]
    first = client.get("/api/v1/customers?size=3", headers=agent).get_json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:3] and first["next"]
    second = client.get("/api/v1/customers", query_string={"size": 3, "after": first["next"]},
                        headers=agent).get_json()
    assert [c["id"] for c in second["items"]] == ids[::-1][3:] and second["next"] is None


def test_bad_input_is_a_422_problem_naming_the_fields(client, agent):
    body = _problem(client.post("/api/v1/customers", headers=agent, json={
        "first_name": "رضا", "national_code": "1234567890", "mobiles": ["12"]}), 422)
    assert "check digit is wrong" in body["errors"]["national_code"]
    assert "not an Iranian mobile number" in body["errors"]["mobiles"]
    body = _problem(client.post("/api/v1/customers", headers=agent,
                                json={"kind": "robot", "birthday": "yesterday"}), 422)
    assert body["errors"]
    customer_id = client.post("/api/v1/customers", headers=agent,
                              json={"first_name": "سارا"}).get_json()["id"]
    body = _problem(client.patch(f"/api/v1/customers/{customer_id}", headers=agent,
                                 json={"emails": ["not an email"]}), 422)
    assert "not an email address" in body["errors"]["emails"]


def test_an_agent_gets_404_for_another_agents_customer(client, agent, make_user, make_token):
    make_user("b@example.ir", role="agent")
    other = bearer(make_token("b@example.ir"))
    theirs = client.post("/api/v1/customers", headers=other,
                         json={"first_name": "دیگری"}).get_json()["id"]
    _problem(client.get(f"/api/v1/customers/{theirs}", headers=agent), 404)
    _problem(client.patch(f"/api/v1/customers/{theirs}", headers=agent,
                          json={"source": "x"}), 404)
    assert client.get("/api/v1/customers", headers=agent).get_json()["items"] == []


def test_a_page_costs_the_same_queries_whatever_its_size(app, client, agent):
    """Contacts, addresses and tags are loaded per page, not per customer (no N+1)."""
    for i in range(12):
        client.post("/api/v1/customers", headers=agent, json={
            "first_name": f"n{i}", "mobiles": [f"0912000{i:04d}"], "tags": ["VIP"],
            "address": {"city": "تهران"}})
    costs = []
    for size in (2, 12):
        with recorded_statements(app) as statements:
            page = client.get("/api/v1/customers", query_string={"size": size}, headers=agent)
        assert len(page.get_json()["items"]) == size
        assert page.get_json()["items"][0]["contacts"] and page.get_json()["items"][0]["tags"]
        costs.append(len(statements))
    assert costs[0] == costs[1], costs
