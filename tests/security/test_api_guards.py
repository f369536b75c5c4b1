"""Regression tests for what schemathesis found in the API (see test_api_fuzz.py).

- timestamps were sent without their offset on SQLite ("2026-11-26T05:12:37", not a valid
  RFC 3339 date-time as the schema says);
- an id or a number past the database's integer range was a server error (SQLite
  OverflowError, PostgreSQL DataError) instead of a 404 / 422;
- a customer PATCH with an owner_id or team_id of no user/team was a server error
  (foreign key violation) instead of a 422 naming the field.
"""

import pytest
from sqlalchemy import func, select

from core.extensions import db

HUGE = 10**20


def api(world, method, url, **kwargs):
    principal = world.principals["admin"]
    return principal.client.open(url, method=method, headers=principal.api_headers(), **kwargs)


def test_api_timestamps_carry_their_utc_offset(world):
    listed = api(world, "GET", "/api/v1/customers")
    first = listed.json["items"][0]
    assert first["created_at"].endswith("+00:00")
    ticket = api(world, "GET", "/api/v1/service/tickets").json["items"][0]
    assert ticket["created_at"].endswith("+00:00")


@pytest.mark.parametrize("url", [
    f"/api/v1/customers/{HUGE}", f"/api/v1/sales/deals/{HUGE}",
    f"/api/v1/marketing/segments/{HUGE}/members", f"/api/v1/customers/{2**31}",
])
def test_an_id_past_any_rows_range_is_not_found(world, url):
    response = api(world, "GET", url)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_a_page_with_an_id_past_any_rows_range_is_not_found(world):
    assert world.get("admin", f"/customers/{HUGE}").status_code == 404
    assert world.get("admin", f"/customers/{2**31 - 1}").status_code == 404  # in range, no row


def test_the_published_schema_says_how_large_an_id_may_be(world):
    spec = api(world, "GET", "/api/v1/openapi.json").json
    parameter = spec["paths"]["/api/v1/customers/{customer_id}"]["parameters"][0]
    assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_a_number_too_large_for_its_column_is_refused_and_nothing_is_kept(world):
    from modules.sales.models.catalog import Product

    with world.app.app_context():
        before = db.session.execute(select(func.count()).select_from(Product)).scalar()
    response = api(world, "POST", "/api/v1/sales/products",
                   json={"code": "BIG-1", "name": "Too dear", "price": HUGE})
    assert response.status_code == 422
    assert response.json["detail"] == "A value is too large or too long for its field."
    with world.app.app_context():
        after = db.session.execute(select(func.count()).select_from(Product)).scalar()
    assert after == before
    # the connection is usable afterwards
    assert api(world, "GET", "/api/v1/sales/products").status_code == 200


@pytest.mark.parametrize("field, value, message", [
    ("owner_id", -1000, "There is no user with this id."),
    ("owner_id", 987654, "There is no user with this id."),
    ("team_id", 987654, "There is no team with this id."),
])
def test_a_customer_cannot_be_given_an_owner_or_team_that_does_not_exist(
        world, field, value, message):
    from core.customers.models import Customer

    with world.app.app_context():
        customer = db.session.execute(select(Customer).limit(1)).scalar()
        ident, owner = customer.id, customer.owner_id
    response = api(world, "PATCH", f"/api/v1/customers/{ident}", json={field: value})
    assert response.status_code == 422, response.json
    assert response.json["errors"][field] == message
    with world.app.app_context():
        assert db.session.get(Customer, ident).owner_id == owner
