"""Deals: the form, won/lost, products, record scope (UI and API 404), the API with
Idempotency-Key, the customer 360 timeline and customer merges."""

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.sales.deal_helpers import (
    bearer_for,
    deal_row,
    make_customer,
    make_deal,
    make_product,
    seed_pipeline,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def sales(app, make_user):
    """An admin and two agents (own scope) with sales seats, a pipeline, each agent's
    customer and deal."""
    make_user("root@example.ir", role="admin", seats=["sales"])
    make_user("ali@example.ir", role="agent", seats=["sales"])
    make_user("sara@example.ir", role="agent", seats=["sales"])
    ids = seed_pipeline(app)
    ids["ali_customer"] = make_customer(app, "ali@example.ir", last_name="Rahimi")
    ids["sara_customer"] = make_customer(app, "sara@example.ir", last_name="Karimi")
    ids["ali_deal"] = make_deal(app, "ali@example.ir", ids["ali_customer"], ids["stages"][0],
                                title="Ali's deal", value=1000)
    ids["sara_deal"] = make_deal(app, "sara@example.ir", ids["sara_customer"],
                                 ids["stages"][0], title="Sara's deal", value=2000)
    return ids


def test_lost_needs_a_reason_won_does_not(app, sales):
    from modules.sales import pipeline as services
    from modules.sales.models.pipeline import Deal

    with app.test_request_context():
        deal = db.session.get(Deal, sales["ali_deal"])
        with pytest.raises(services.PipelineError) as refused:
            services.close_deal(deal, "lost", lost_reason="  ", competitor="رقیب")
        assert refused.value.errors == {"lost_reason": "Say why the deal was lost."}
        assert deal.status == "open"
        with pytest.raises(services.PipelineError):
            services.close_deal(deal, "maybe")
        services.close_deal(deal, "lost", lost_reason="قیمت بالا", competitor="پارس")
        db.session.commit()
        assert (deal.status, deal.lost_reason, deal.competitor) == ("lost", "قیمت بالا", "پارس")
        assert deal.closed_at is not None
        services.reopen_deal(deal)
        services.close_deal(deal, "won")
        db.session.commit()
        assert (deal.status, deal.lost_reason, deal.competitor) == ("won", "", "")
        assert [h.detail["status"] for h in services.history(deal) if h.kind == "status"] == [
            "won", "open", "lost"]


def test_close_form_refuses_lost_without_reason_and_shows_the_outcome(app, client, sales,
                                                                      login):
    login("ali@example.ir")
    url = f"/sales/deals/{sales['ali_deal']}"
    page = client.get(url)
    refused = client.post(url + "/close", data={"csrf_token": csrf_from(page),
                                                "status": "lost", "lost_reason": ""},
                          follow_redirects=True)
    assert "Say why the deal was lost." in refused.get_data(as_text=True)
    assert deal_row(app, sales["ali_deal"])["status"] == "open"
    lost = client.post(url + "/close", data={"csrf_token": csrf_from(page), "status": "lost",
                                             "lost_reason": "قیمت", "competitor": "پارس"},
                       follow_redirects=True)
    html = lost.get_data(as_text=True)
    assert deal_row(app, sales["ali_deal"])["status"] == "lost"
    assert 'data-lost-reason>قیمت<' in html and "Marked lost: قیمت" in html
    assert "Competitor: پارس" in html


def test_agent_cannot_open_another_agents_deal(app, client, sales, login):
    login("ali@example.ir")
    mine, theirs = sales["ali_deal"], sales["sara_deal"]
    assert client.get(f"/sales/deals/{mine}").status_code == 200
    page = client.get(f"/sales/deals/{mine}")
    token = csrf_from(page)
    for url in (f"/sales/deals/{theirs}", f"/sales/deals/{theirs}/edit"):
        assert client.get(url).status_code == 404, url
    for url, data in ((f"/sales/deals/{theirs}/stage", {"stage_id": sales["stages"][1]}),
                      (f"/sales/deals/{theirs}/close", {"status": "won"}),
                      (f"/sales/deals/{theirs}/activities", {"kind": "note", "body": "x"}),
                      ("/sales/board/move", {"item": theirs, "to": sales["stages"][1]})):
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 404, url
    assert deal_row(app, theirs)["stage_id"] == sales["stages"][0]
    listed = client.get("/sales/deals").get_data(as_text=True)
    assert "Ali&#39;s deal" in listed and "Sara&#39;s deal" not in listed

    api = bearer_for(app, "ali@example.ir")
    assert client.get(f"/api/v1/sales/deals/{theirs}", headers=api).status_code == 404
    assert client.patch(f"/api/v1/sales/deals/{theirs}", headers=api,
                        json={"title": "x"}).status_code == 404
    assert client.get(f"/api/v1/sales/deals/{mine}", headers=api).status_code == 200
    items = client.get("/api/v1/sales/deals", headers=api).get_json()["items"]
    assert [d["id"] for d in items] == [mine]
    # the admin sees both
    root = bearer_for(app, "root@example.ir")
    assert client.get(f"/api/v1/sales/deals/{theirs}", headers=root).status_code == 200


def test_deal_form_takes_persian_digits_jalali_date_and_a_visible_customer(app, client, sales,
                                                                          login):
    from datetime import date

    from modules.sales.models.pipeline import Deal

    login("ali@example.ir")
    page = client.get(f"/sales/deals/new?customer={sales['ali_customer']}")
    html = page.get_data(as_text=True)
    assert f'<option selected value="{sales["ali_customer"]}">' in html
    form = {"csrf_token": csrf_from(page), "title": "خرید سرور",
            "customer_id": str(sales["ali_customer"]), "stage_id": str(sales["stages"][1]),
            "value": "۱۲٬۵۰۰٬۰۰۰", "expected_close": "۱۴۰۳/۰۵/۰۱", "owner_id": "0",
            "source": "نمایشگاه", "campaign": "الکامپ"}
    bad = client.post("/sales/deals/new", data={**form, "expected_close": "۱۴۰۳/۱۳/۰۱"})
    assert "has no month 13" in bad.get_data(as_text=True)
    hidden = client.post("/sales/deals/new", data={**form,
                                                   "customer_id": str(sales["sara_customer"])})
    assert hidden.status_code == 200 and "Choose the customer." in hidden.get_data(as_text=True)
    saved = client.post("/sales/deals/new", data=form)
    assert saved.status_code == 302, saved.data[:2000]
    with app.app_context():
        deal = db.session.query(Deal).filter_by(title="خرید سرور").one()
        assert (deal.value, deal.expected_close, deal.stage_id, deal.customer_id) == (
            12_500_000, date(2024, 7, 22), sales["stages"][1], sales["ali_customer"])
        assert (deal.source, deal.campaign, deal.owner_id) == ("نمایشگاه", "الکامپ", None)
    options = client.get("/sales/deals/customer-options?customer_q=karimi")
    assert "Karimi" not in options.get_data(as_text=True)  # another agent's customer
    mine = client.get("/sales/deals/customer-options?customer_q=rahimi")
    assert f'value="{sales["ali_customer"]}"' in mine.get_data(as_text=True)


def test_deal_products_take_the_customers_price_and_set_the_value(app, client, sales, login):
    product = make_product(app, code="LAP", name="لپ‌تاپ", price=1_000_000)
    login("ali@example.ir")
    url = f"/sales/deals/{sales['ali_deal']}"
    page = client.get(url)
    token = csrf_from(page)
    client.post(url + "/lines", data={"csrf_token": token, "product_id": product,
                                      "quantity": "۳", "unit_price": ""})
    client.post(url + "/lines", data={"csrf_token": token, "product_id": product,
                                      "quantity": "1", "unit_price": "۹۰۰٬۰۰۰"})
    assert deal_row(app, sales["ali_deal"])["value"] == 3_900_000
    html = client.get(url).get_data(as_text=True)
    assert "3,000,000 Rial" in html and "900,000 Rial" in html
    client.post(url + "/lines/0/delete", data={"csrf_token": token})
    assert deal_row(app, sales["ali_deal"])["value"] == 900_000


def test_deal_page_shows_its_history(app, client, sales, login):
    login("ali@example.ir")
    url = f"/sales/deals/{sales['ali_deal']}"
    token = csrf_from(client.get(url))
    client.post(url + "/stage", data={"csrf_token": token, "stage_id": sales["stages"][2]})
    client.post(url + "/activities", data={"csrf_token": token, "kind": "call",
                                           "body": "با مدیر خرید صحبت شد"})
    html = client.get(url).get_data(as_text=True)
    assert "Moved from سرنخ to ارائه" in html and "با مدیر خرید صحبت شد" in html
    assert "Deal created" in html
    assert html.index("با مدیر خرید") < html.index("Moved from") < html.index("Deal created")


def test_api_creates_a_deal_once_per_idempotency_key(app, client, sales):
    from modules.sales.models.pipeline import Deal

    api = {**bearer_for(app, "ali@example.ir"), "Idempotency-Key": "deal-1"}
    body = {"title": "API deal", "customer_id": sales["ali_customer"], "value": 5_000_000,
            "expected_close": "2024-07-22", "source": "وب‌سایت"}
    first = client.post("/api/v1/sales/deals", headers=api, json=body)
    assert first.status_code == 201, first.data
    again = client.post("/api/v1/sales/deals", headers=api, json=body)
    assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == first.get_json()["id"]
    with app.app_context():
        assert db.session.query(Deal).filter_by(title="API deal").count() == 1
        deal = db.session.query(Deal).filter_by(title="API deal").one()
        assert deal.stage_id == sales["stages"][0] and deal.owner.email == "ali@example.ir"

    plain = bearer_for(app, "ali@example.ir")
    hidden = client.post("/api/v1/sales/deals", headers=plain,
                         json={**body, "customer_id": sales["sara_customer"]})
    assert hidden.status_code == 422 and "customer_id" in hidden.get_json()["errors"]
    moved = client.patch(f"/api/v1/sales/deals/{deal.id}", headers=plain,
                         json={"stage_id": sales["stages"][3]})
    assert moved.status_code == 200 and moved.get_json()["stage_id"] == sales["stages"][3]
    no_reason = client.patch(f"/api/v1/sales/deals/{deal.id}", headers=plain,
                             json={"status": "lost"})
    assert no_reason.status_code == 422
    assert no_reason.get_json()["errors"] == {"lost_reason": "Say why the deal was lost."}
    lost = client.patch(f"/api/v1/sales/deals/{deal.id}", headers=plain,
                        json={"status": "lost", "lost_reason": "بودجه"})
    assert lost.get_json()["status"] == "lost"
    filtered = client.get("/api/v1/sales/deals", headers=plain,
                          query_string={"status": "open"}).get_json()["items"]
    assert [d["id"] for d in filtered] == [sales["ali_deal"]]


def test_products_api_lists_creates_and_validates(app, client, sales):
    root = bearer_for(app, "root@example.ir")
    agent = bearer_for(app, "ali@example.ir")
    created = client.post("/api/v1/sales/products", headers=root, json={
        "code": "SRV-1", "name": "نصب شبکه", "kind": "service", "unit": "ساعت",
        "price": 8_000_000})
    assert created.status_code == 201, created.data
    twice = client.post("/api/v1/sales/products", headers=root, json={
        "code": "srv-1", "name": "دیگری", "price": -1})
    assert twice.status_code == 422
    assert set(twice.get_json()["errors"]) == {"code", "price"}
    assert client.post("/api/v1/sales/products", headers=agent, json={
        "code": "X", "name": "x", "price": 1}).status_code == 403
    found = client.get("/api/v1/sales/products", headers=agent,
                       query_string={"q": "شبکه"}).get_json()["items"]
    assert [(p["code"], p["price"], p["unit"]) for p in found] == [("SRV-1", 8_000_000, "ساعت")]
    patched = client.patch(f"/api/v1/sales/products/{created.get_json()['id']}",
                           headers=root, json={"price": 9_000_000})
    assert patched.get_json()["price"] == 9_000_000


def test_deals_appear_on_the_customer_360_timeline_in_scope(app, client, sales, login):
    login("ali@example.ir")
    html = client.get(f"/customers/{sales['ali_customer']}").get_data(as_text=True)
    assert "Deal opened: Ali&#39;s deal" in html
    assert f"/sales/deals/{sales['ali_deal']}" in html


def test_customer_merge_moves_deals_to_the_survivor(app, sales):
    from core.customers.merge import merge_customers
    from core.customers.models import Customer
    from modules.sales.models.pipeline import DealActivity

    with app.test_request_context():
        survivor = db.session.get(Customer, sales["ali_customer"])
        loser = db.session.get(Customer, sales["sara_customer"])
        merge_customers(survivor, loser)
        db.session.commit()
    assert deal_row(app, sales["sara_deal"])["customer_id"] == sales["ali_customer"]
    with app.app_context():
        notes = db.session.query(DealActivity).filter_by(deal_id=sales["sara_deal"],
                                                         kind="update").all()
        assert [n.detail["merged_from"] for n in notes] == [sales["sara_customer"]]


def test_team_scope_sees_the_teams_deals_and_a_new_owner_brings_the_deal(app, client,
                                                                        make_user, login):
    from core.auth.models import Team, User
    from modules.sales import pipeline as services
    from modules.sales.models.pipeline import Deal

    make_user("lead@example.ir", role="manager", seats=["sales"])  # scope "team"
    make_user("ali@example.ir", role="agent", seats=["sales"])
    make_user("sara@example.ir", role="agent", seats=["sales"])
    with app.app_context():
        tehran, shiraz = Team(name="تهران"), Team(name="شیراز")
        db.session.add_all([tehran, shiraz])
        db.session.flush()
        users = {u.email: u for u in db.session.query(User)}
        users["lead@example.ir"].team_id = users["ali@example.ir"].team_id = tehran.id
        users["sara@example.ir"].team_id = shiraz.id
        db.session.commit()
        sara_id = users["sara@example.ir"].id
    stage = seed_pipeline(app)["stages"][0]
    customer = make_customer(app)
    ours = make_deal(app, "ali@example.ir", customer, stage, title="ours")
    theirs = make_deal(app, "sara@example.ir", customer, stage, title="theirs")
    login("lead@example.ir")
    assert client.get(f"/sales/deals/{ours}").status_code == 200
    assert client.get(f"/sales/deals/{theirs}").status_code == 404
    with app.test_request_context():
        services.update_deal(db.session.get(Deal, ours), owner_id=sara_id)
        db.session.commit()
    assert client.get(f"/sales/deals/{ours}").status_code == 404  # now in Shiraz's team


def test_persian_sales_pages_show_no_latin_digits(app, client, make_user, login):
    """Words wait for the catalogs; digits must already be Persian on every sales page."""
    import re
    from datetime import date

    from tests.core.test_translations import latin_in

    make_user("fa@example.ir", role="admin", seats=["sales"], locale="fa")
    ids = seed_pipeline(app)
    customer = make_customer(app, "fa@example.ir", mobiles=["09123456789"])
    product = make_product(app, code="LAP-01", name="لپ‌تاپ", price=12_500_000,
                           stock_quantity=12)
    deal = make_deal(app, "fa@example.ir", customer, ids["stages"][1], value=7_500_000,
                     expected_close=date(2024, 7, 22))
    login("fa@example.ir")
    page = client.get(f"/sales/deals/{deal}")
    token = csrf_from(page)
    client.post(f"/sales/deals/{deal}/lines", data={"csrf_token": token, "product_id": product,
                                                     "quantity": "2", "unit_price": ""})
    client.post(f"/sales/deals/{deal}/stage", data={"csrf_token": token,
                                                    "stage_id": ids["stages"][2]})
    for path in ("/sales/board", "/sales/deals", f"/sales/deals/{deal}",
                 f"/sales/deals/{deal}/edit", "/sales/forecast", "/sales/today",
                 "/sales/products", f"/sales/products/{product}/edit", "/sales/pipelines",
                 f"/sales/pipelines/{ids['pipeline']}/edit", "/sales/discounts",
                 "/sales/deals?stale=1&status=open"):
        response = client.get(path)
        assert response.status_code == 200, path
        digits = [w for w in latin_in(response.get_data(as_text=True)) if re.match(r"\d", w)]
        assert digits == [], (path, digits)


def test_customer_page_offers_new_deal_and_quote_to_sales_users_only(app, client, sales,
                                                                     make_user, login):
    from core.auth.models import User
    from core.customers.services import create_customer

    make_user("viewer@example.ir", role="agent")  # no sales seat: the module is not theirs
    with app.app_context():
        viewer = db.session.query(User).filter_by(email="viewer@example.ir").one()
        own_id = create_customer(first_name="Nima", last_name="Azad", owner_id=viewer.id).id
        db.session.commit()
    login("ali@example.ir")
    response = client.get(f"/customers/{sales['ali_customer']}")
    page = response.get_data(as_text=True)
    assert f'href="/sales/deals/new?customer={sales["ali_customer"]}"' in page
    assert f'href="/sales/quotes/new?customer_id={sales["ali_customer"]}"' in page
    form = client.get(f"/sales/deals/new?customer={sales['ali_customer']}").get_data(as_text=True)
    assert "Rahimi" in form  # the deal form starts with this customer
    client.post("/auth/logout", data={"csrf_token": csrf_from(response)})
    login("viewer@example.ir")
    page = client.get(f"/customers/{own_id}").get_data(as_text=True)
    assert "Nima" in page and "data-customer-action" not in page
