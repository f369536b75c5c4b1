"""Quotes: price-list prices and VAT, discount approval, versions, the line editor, scope."""

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.sales.document_helpers import make_buyer, make_product, make_quote, user


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _quote(app, quote_id):
    from modules.sales.models.documents import Quote

    return db.session.get(Quote, quote_id)


def test_prices_come_from_the_customers_price_list_and_vat_from_the_table(app, make_user):
    from modules.sales import catalog

    make_user()
    product = make_product(app, price=1_200_000)
    vip = make_buyer(app, tags="VIP")
    plain = make_buyer(app, display_name="بتا", legal_name="شرکت بتا")
    with app.test_request_context():
        from modules.sales.models.catalog import Product

        price_list = catalog.save_price_list(None, name="VIP", match_kind="tag", match_value="VIP")
        catalog.set_list_price(price_list, db.session.get(Product, product), 1_000_000)
        db.session.commit()
    items = [{"product_id": product, "quantity": "2.5", "discount_percent": "10"}]
    vip_quote, plain_quote = make_quote(app, vip, items), make_quote(app, plain, items)
    with app.app_context():
        line = _quote(app, vip_quote).current.lines[0]
        # 2.5 × 1,000,000 = 2,500,000; 10% off = 2,250,000; VAT 10% (1403 onwards) = 225,000
        assert (line.unit_price, line.quantity, line.gross, line.taxable, line.vat_rate_bp,
                line.vat, line.total) == (1_000_000, 2500, 2_500_000, 2_250_000, 1000,
                                          225_000, 2_475_000)
        assert (line.description, line.unit) == ("لپ تاپ", "عدد")
        assert _quote(app, plain_quote).current.lines[0].unit_price == 1_200_000
        assert _quote(app, vip_quote).status == "draft"  # the admin has no discount limit


def test_a_discount_above_the_agents_limit_waits_for_a_manager(app, client, make_user, login):
    from core.auth.models import Role, Team
    from modules.sales import catalog, quotes

    make_user("agent@example.ir", role="agent", seats=["sales"])
    make_user("boss@example.ir", role="manager", seats=["sales"])
    with app.app_context():
        agent_role = db.session.execute(select(Role).where(Role.name == "agent")).scalar()
        catalog.set_discount_limits({agent_role.id: 5})
        team = Team(name="فروش")
        db.session.add(team)
        db.session.flush()
        for email in ("agent@example.ir", "boss@example.ir"):
            user(email).team_id = team.id  # a manager sees the records of their team
        db.session.commit()
    product = make_product(app)
    customer = make_buyer(app, owner_email="agent@example.ir")
    within = make_quote(app, customer, [{"product_id": product, "quantity": 1,
                                         "discount_percent": 5}], email="agent@example.ir")
    beyond = make_quote(app, customer, [{"product_id": product, "quantity": 1}],
                        email="agent@example.ir", discount=200_000)  # 16.7% of 1,200,000
    with app.test_request_context():
        assert _quote(app, within).status == "draft"
        quote = _quote(app, beyond)
        assert quote.status == "awaiting_approval" and quote.current.needs_approval
        with pytest.raises(quotes.QuoteError, match="waits for a manager's approval"):
            quotes.send_quote(quote, "buyer@alfa.example", by=user("agent@example.ir"))
        with pytest.raises(quotes.QuoteError, match="Only a sales manager"):
            quotes.approve_quote(quote, by=user("agent@example.ir"))
        db.session.rollback()

    login("agent@example.ir")
    page = client.get(f"/sales/quotes/{beyond}")
    assert b"data-awaiting-approval" in page.data and b"data-approve" not in page.data
    refused = client.post(f"/sales/quotes/{beyond}/approve", data={"csrf_token": csrf_from(page)})
    assert refused.status_code == 403
    client.post("/auth/logout", data={"csrf_token": csrf_from(page)})

    login("boss@example.ir")
    page = client.get(f"/sales/quotes/{beyond}")
    assert b"data-approve" in page.data
    done = client.post(f"/sales/quotes/{beyond}/approve", data={"csrf_token": csrf_from(page)},
                       follow_redirects=True)
    assert b"Discounts approved" in done.data
    with app.app_context():
        quote = _quote(app, beyond)
        assert quote.status == "approved" and quote.approved_by_id == user("boss@example.ir").id


def test_editing_a_sent_quote_makes_version_two(app, make_user):
    from modules.sales import quotes

    make_user()
    product = make_product(app)
    quote_id = make_quote(app, make_buyer(app), [{"product_id": product, "quantity": 1}])
    with app.test_request_context():
        quote = _quote(app, quote_id)
        quote.status = "sent"  # as if emailed (sending is tested with a real SMTP server)
        token = quotes.new_link(quote)
        db.session.commit()
        quotes.update_quote(quote, [{"product_id": product, "quantity": 3}], by=user())
        db.session.commit()
        assert (quote.version, [v.version for v in quote.versions]) == (2, [1, 2])
        assert quote.status == "draft"
        assert quote.versions[0].lines[0].quantity == 1000  # version 1 kept as it was sent
        assert quote.current.lines[0].quantity == 3000
        assert quotes.by_token(token) is None  # the link of version 1 no longer answers
        quotes.update_quote(quote, [{"product_id": product, "quantity": 4}], by=user())
        db.session.commit()
        assert quote.version == 2  # a draft is edited in place


def test_build_a_quote_in_the_line_editor(app, client, make_user, login):
    make_user(seats=["sales"])
    login()
    product = make_product(app, price=1_500_000)
    customer = make_buyer(app)
    empty = client.get("/sales/quotes/")
    assert b"data-empty-state" in empty.data and b"No quotes yet" in empty.data
    page = client.get(f"/sales/quotes/new?customer_id={customer}")
    assert page.status_code == 200
    token = csrf_from(page)
    form = {"csrf_token": token, "customer_id": str(customer), "lines-0-product_id": str(product),
            "lines-0-quantity": "۲", "lines-0-description": "", "lines-0-unit": "",
            "lines-0-unit_price": "", "lines-0-discount_percent": ""}
    added = client.post("/sales/quotes/new", data={**form, "action": "add"})
    assert b'name="lines-1-quantity"' in added.data
    assert b'value="1,500,000"' in added.data  # the price list (base) price filled in
    assert b"data-preview-total" in added.data and b"3,300,000" in added.data
    bad = client.post("/sales/quotes/new", data={
        **form, "lines-1-description": "نصب", "lines-1-quantity": "a lot", "action": "save"})
    assert b"a lot is not a number" in bad.data
    saved = client.post("/sales/quotes/new", data={
        **form, "lines-1-description": "نصب", "lines-1-quantity": "1.5", "lines-1-unit": "ساعت",
        "lines-1-unit_price": "200,000", "lines-1-discount_percent": "50", "discount": "",
        "valid_until": "", "notes": "تحویل در محل", "action": "save"})
    assert saved.status_code == 302, saved.data[:2000]
    shown = client.get(saved.headers["Location"])
    # 3,000,000 + 1.5 × 200,000 × 50% = 3,150,000; VAT 315,000
    assert b"3,465,000" in shown.data and "تحویل در محل".encode() in shown.data
    listed = client.get("/sales/quotes/?q=آلفا")
    assert b"data-quote=" in listed.data


def test_the_form_says_what_is_missing(app, client, make_user, login):
    make_user(seats=["sales"])
    login()
    page = client.get("/sales/quotes/new")
    response = client.post("/sales/quotes/new", data={
        "csrf_token": csrf_from(page), "customer_id": "", "lines-0-description": "",
        "lines-0-quantity": "", "action": "save"})
    assert b"Choose the customer." in response.data


def test_an_agent_cannot_open_another_agents_quote(app, client, make_user, login):
    make_user("a@example.ir", role="agent", seats=["sales"])
    make_user("b@example.ir", role="agent", seats=["sales"])
    product = make_product(app)
    customer = make_buyer(app, owner_email="a@example.ir")
    quote_id = make_quote(app, customer, [{"product_id": product, "quantity": 1,
                                           "unit_price": 5}], email="a@example.ir")
    login("b@example.ir")
    assert client.get(f"/sales/quotes/{quote_id}").status_code == 404
    assert client.get(f"/sales/quotes/{quote_id}/pdf").status_code == 404
    assert b"data-quote=" not in client.get("/sales/quotes/").data


def test_a_quote_for_a_deal_starts_with_its_customer_and_products(app, client, make_user,
                                                                   login):
    from modules.sales.models.documents import Quote
    from modules.sales.models.pipeline import Deal
    from modules.sales.pipeline import set_lines
    from tests.modules.sales.deal_helpers import make_deal, seed_pipeline

    make_user(seats=["sales"])
    stages = seed_pipeline(app)["stages"]
    customer = make_buyer(app)
    product = make_product(app, price=900_000)
    deal_id = make_deal(app, "admin@example.ir", customer, stages[0], title="تجهیز دفتر")
    with app.test_request_context():
        set_lines(db.session.get(Deal, deal_id), [{"product_id": product, "quantity": 3,
                                                   "unit_price": 850_000}])
        db.session.commit()
    login()
    page = client.get(f"/sales/quotes/new?deal_id={deal_id}")
    assert b"data-quote-deal" in page.data and b'value="850,000"' in page.data
    saved = client.post("/sales/quotes/new", data={
        "csrf_token": csrf_from(page), "customer_id": str(customer), "deal_id": str(deal_id),
        "lines-0-product_id": str(product), "lines-0-quantity": "3",
        "lines-0-unit_price": "850,000", "action": "save"})
    assert saved.status_code == 302, saved.data[:2000]
    with app.app_context():
        quote = db.session.query(Quote).one()
        assert (quote.deal_id, quote.customer_id, quote.current.gross) == (deal_id, customer,
                                                                           2_550_000)
    shown = client.get(saved.headers["Location"])
    assert b"data-deal-link" in shown.data and "تجهیز دفتر".encode() in shown.data
