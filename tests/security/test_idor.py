"""IDOR: a user with "own" scope never reaches another owner's record, by page, API or list.

One line per resource type that has an owner. For each: the agent (built-in role, scope "own")
is made the owner of one demo row and another demo row is left to someone else; the agent then
opens both through the page and the API, and reads both lists.
"""

import re
from dataclasses import dataclass
from importlib import import_module

import pytest
from sqlalchemy import select

from core.extensions import db


@dataclass(frozen=True)
class Resource:
    name: str
    model: str  # "package.module:Class"
    page: str  # detail page, "{id}" is the row's id
    list_page: str
    api: str | None = None  # API item, "{id}"
    api_list: str | None = None


RESOURCES = [
    Resource("customer", "core.customers.models:Customer", "/customers/{id}", "/customers/",
             "/api/v1/customers/{id}", "/api/v1/customers"),
    Resource("deal", "modules.sales.models.pipeline:Deal", "/sales/deals/{id}", "/sales/deals",
             "/api/v1/sales/deals/{id}", "/api/v1/sales/deals"),
    Resource("quote", "modules.sales.models.documents:Quote", "/sales/quotes/{id}",
             "/sales/quotes/", "/api/v1/sales/quotes/{id}", "/api/v1/sales/quotes"),
    Resource("order", "modules.sales.models.documents:Order", "/sales/orders/{id}",
             "/sales/orders/"),
    Resource("invoice", "modules.sales.models.documents:Invoice", "/sales/invoices/{id}",
             "/sales/invoices/", "/api/v1/sales/invoices/{id}", "/api/v1/sales/invoices"),
    Resource("payment", "modules.sales.models.payments:Payment", "/sales/payments/{id}",
             "/sales/payments/", "/api/v1/sales/payments/{id}", "/api/v1/sales/payments"),
    Resource("ticket", "modules.service.models.tickets:Ticket", "/service/tickets/{id}",
             "/service/tickets", "/api/v1/service/tickets/{id}", "/api/v1/service/tickets"),
    Resource("lead", "modules.marketing.models.leads:Lead", "/marketing/leads/{id}",
             "/marketing/leads", "/api/v1/marketing/leads/{id}", "/api/v1/marketing/leads"),
    Resource("club member", "modules.loyalty.models.members:Member", "/loyalty/members/{id}",
             "/loyalty/members", "/api/v1/loyalty/members/{id}", "/api/v1/loyalty/members"),
]


def model_of(resource: Resource):
    module, _sep, name = resource.model.partition(":")
    return getattr(import_module(module), name)


def ensure_sales_documents(app) -> None:
    """The demo has no quotes: make two, each accepted into an order, invoiced and paid."""
    from core.auth.models import User
    from core.customers.models import Customer
    from modules.sales import invoices, payments, quotes
    from modules.sales.models.catalog import Product
    from modules.sales.models.documents import Quote

    with app.test_request_context():
        if db.session.execute(select(Quote)).first() is not None:
            return
        admin = db.session.execute(select(User).where(User.email == "admin@peyvand.local")).scalar()
        product = db.session.execute(select(Product).order_by(Product.id)).scalars().first()
        for customer in db.session.execute(select(Customer).limit(2)).scalars():
            quote = quotes.create_quote(customer, [{"product_id": product.id, "quantity": "1"}],
                                        by=admin)
            quote.status = "accepted"
            db.session.flush()
            invoices.invoice_from_order(quotes.make_order(quote), by=admin)
            db.session.flush()
            payments.record_payment(customer, amount=1000, method="cash", by=admin)
        db.session.commit()


@pytest.fixture(scope="module")
def owned(world):
    """Per resource: (the agent's row id, another owner's row id)."""
    agent = world.principals["agent"].user_id
    manager = world.principals["manager"].user_id
    result = {}
    ensure_sales_documents(world.app)
    with world.app.app_context():
        for resource in RESOURCES:
            model = model_of(resource)
            rows = db.session.execute(select(model).order_by(model.id.desc()).limit(2)).scalars()
            rows = list(rows)
            assert len(rows) == 2, f"the demo data has fewer than two {resource.name} rows"
            mine, theirs = rows
            mine.owner_id, theirs.owner_id = agent, manager
            for row in (mine, theirs):
                if hasattr(row, "team_id"):
                    row.team_id = None
            result[resource.name] = (mine.id, theirs.id)
        db.session.commit()
    return result


def links_to(html: bytes, url: str) -> bool:
    """Whether the page links to ``url`` exactly (not to a longer id starting the same)."""
    return re.search(re.escape(url).encode() + rb"(?![0-9])", html) is not None


def ids_in(payload) -> set:
    items = payload.get("items", payload) if isinstance(payload, dict) else payload
    return {item["id"] for item in items if isinstance(item, dict) and "id" in item}


@pytest.mark.parametrize("resource", RESOURCES, ids=[r.name for r in RESOURCES])
def test_own_scope_hides_another_owners_record(world, owned, resource):
    mine, theirs = owned[resource.name]
    page = resource.page.format
    # the agent's own record opens; another owner's answers 404 as if it did not exist
    assert world.get("agent", page(id=mine)).status_code == 200
    assert world.get("agent", page(id=theirs)).status_code == 404
    # an "all"-scope admin opens it: the 404 above is the scope, not a missing row
    assert world.get("admin", page(id=theirs)).status_code == 200
    listing = world.get("agent", resource.list_page, query_string={"q": ""})
    assert listing.status_code == 200
    assert links_to(listing.data, page(id=mine))
    assert not links_to(listing.data, page(id=theirs))
    if resource.api:
        assert world.get("agent", resource.api.format(id=mine)).status_code == 200
        refused = world.get("agent", resource.api.format(id=theirs))
        assert refused.status_code == 404, refused.json
        assert world.get("admin", resource.api.format(id=theirs)).status_code == 200
        listed = world.get("agent", resource.api_list, query_string={"per_page": 100})
        assert listed.status_code == 200, listed.json
        assert mine in ids_in(listed.json)
        assert theirs not in ids_in(listed.json)


def test_every_owned_model_is_in_the_table(world):
    """A model with an owner_id column that the table forgets fails here (one line to add)."""
    covered = {model_of(r) for r in RESOURCES}
    owned_models = {m.class_ for m in db.Model.registry.mappers if "owner_id" in m.columns}
    assert len(owned_models) >= len(RESOURCES)  # every module's tables are defined by now
    assert {m.__name__ for m in owned_models - covered} == set()
