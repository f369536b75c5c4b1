"""Catalogue: product validation, price lists chosen per customer, discount limits per role."""

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.sales.deal_helpers import make_customer, make_product


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _catalog():
    from modules.sales import catalog

    return catalog


def test_product_codes_are_unique_whatever_the_digits_or_case(app):
    catalog = _catalog()
    with app.test_request_context():
        product = catalog.create_product(code=" lap-۰۱ ", name="لپ‌تاپ", price="۴۵۰٬۰۰۰٬۰۰۰")
        db.session.commit()
        assert (product.code, product.price) == ("lap-01", 450_000_000)
        with pytest.raises(catalog.CatalogError) as refused:
            catalog.create_product(code="LAP-01", name="دیگری", price=1)
        assert refused.value.errors == {"code": "Another product already has this code."}
        db.session.rollback()
        catalog.update_product(product, code="LAP-01")  # its own code in another case is fine
        db.session.commit()
        assert product.code == "LAP-01"


def test_product_needs_a_name_a_price_not_below_zero_and_a_known_kind(app):
    catalog = _catalog()
    with app.test_request_context():
        with pytest.raises(catalog.CatalogError) as refused:
            catalog.create_product(code="X", name="  ", price=-1, kind="gift",
                                   stock_quantity="-۲", tax_category="zero")
        assert set(refused.value.errors) == {"name", "price", "kind", "stock_quantity",
                                             "tax_category"}
        assert refused.value.errors["price"] == "Cannot be negative."
        with pytest.raises(catalog.CatalogError) as no_price:
            catalog.create_product(code="X", name="کالا")
        assert set(no_price.value.errors) == {"price"}
        with pytest.raises(catalog.CatalogError) as bad_number:
            catalog.create_product(code="X", name="کالا", price="دوازده")
        assert set(bad_number.value.errors) == {"price"}
        free = catalog.create_product(code="FREE", name="هدیه", price=0, stock_quantity="۱۲")
        assert (free.price, free.stock_quantity) == (0, 12)


def test_product_form_reads_persian_digits_in_toman_and_shows_errors(app, client, make_user,
                                                                     login):
    from core.database import set_setting
    from modules.sales.models.catalog import Product

    make_user("boss@example.ir", role="manager", seats=["sales"])
    with app.app_context():
        set_setting("display.unit", "toman")
        db.session.commit()
    login("boss@example.ir")
    page = client.get("/sales/products/new")
    form = {"csrf_token": csrf_from(page), "code": "PRN-۱۰۷", "name": "چاپگر لیزری",
            "kind": "product", "unit": "عدد", "category_id": "0", "new_category": "چاپگر",
            "price": "۱۸٬۰۰۰٬۰۰۰", "tax_category": "standard", "stock_quantity": "۸",
            "upgrade_to_id": "0", "active": "y"}
    saved = client.post("/sales/products/new", data=form)
    assert saved.status_code == 302, saved.data[:2000]
    with app.app_context():
        product = db.session.query(Product).one()
        assert (product.code, product.price, product.stock_quantity) == ("PRN-107", 180_000_000,
                                                                         8)
        assert product.category.name == "چاپگر"
    listed = client.get("/sales/products?q=چاپگر")
    assert "18,000,000 Toman" in listed.get_data(as_text=True)

    again = client.post("/sales/products/new", data={**form, "code": "prn-107",
                                                     "price": "-۵"})
    text = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "Another product already has this code." in text and "Cannot be negative." in text
    with app.app_context():
        assert db.session.query(Product).count() == 1


def test_catalogue_is_read_only_without_sales_manage(client, make_user, login, app):
    make_product(app, code="P1", name="کالای یک", price=1000)
    make_user("agent@example.ir", role="agent", seats=["sales"])
    login("agent@example.ir")
    listed = client.get("/sales/products")
    assert "کالای یک" in listed.get_data(as_text=True)
    assert client.get("/sales/products/new").status_code == 403
    assert client.get("/sales/products/1/edit").status_code == 403
    assert client.get("/sales/discounts").status_code == 403


def _score(app, customer_id, segment):
    from core.analytics.models import CustomerScore

    with app.app_context():
        db.session.add(CustomerScore(customer_id=customer_id, recency_days=1, frequency=1,
                                     monetary=1, r_score=5, f_score=5, m_score=5,
                                     segment=segment))
        db.session.commit()


def test_price_for_takes_the_customers_list_else_the_base_price(app):
    from core.customers.custom_fields import define_field
    from core.customers.models import Customer
    from modules.sales.models.catalog import Product

    catalog = _catalog()
    laptop = make_product(app, code="LAP", price=1000)
    printer = make_product(app, code="PRN", price=500)
    with app.test_request_context():
        define_field("class", "Customer class", "text")
        db.session.commit()
    plain = make_customer(app)
    wholesale = make_customer(app, tags=["عمده‌فروش"])
    champion = make_customer(app, tags=["عمده‌فروش"])
    gold = make_customer(app, custom={"class": "طلایی"})
    _score(app, champion, "champions")
    with app.test_request_context():
        by_tag = catalog.save_price_list(name="عمده", match_kind="tag",
                                         match_value="عمده‌فروش", priority=50)
        by_segment = catalog.save_price_list(name="قهرمانان", match_kind="segment",
                                             match_value="champions", priority=10)
        by_field = catalog.save_price_list(name="طلایی", match_kind="field",
                                           match_field="class", match_value="طلایی")
        lap, prn = db.session.get(Product, laptop), db.session.get(Product, printer)
        catalog.set_list_price(by_tag, lap, "۹۰۰")
        catalog.set_list_price(by_tag, prn, 450)
        catalog.set_list_price(by_segment, lap, 800)  # no printer price in this list
        catalog.set_list_price(by_field, lap, 850)
        db.session.commit()

        def price(product, customer_id):
            return catalog.price_for(product, db.session.get(Customer, customer_id))

        assert catalog.price_for(lap, None) == 1000
        assert (price(lap, plain), price(prn, plain)) == (1000, 500)
        assert (price(lap, wholesale), price(prn, wholesale)) == (900, 450)
        # the segment list wins on priority; for the printer it has no price, the tag list has
        assert (price(lap, champion), price(prn, champion)) == (800, 450)
        assert (price(lap, gold), price(prn, gold)) == (850, 500)
        # a list out of use no longer applies; a removed list price falls back
        by_segment.active = False
        catalog.set_list_price(by_tag, prn, "")
        db.session.commit()
        assert (price(lap, champion), price(prn, champion)) == (900, 500)


def test_price_list_needs_a_name_and_whom_it_is_for(app):
    catalog = _catalog()
    with app.test_request_context():
        with pytest.raises(catalog.CatalogError) as refused:
            catalog.save_price_list(name="", match_kind="field", match_value="")
        assert set(refused.value.errors) == {"name", "match_value", "match_field"}
        catalog.save_price_list(name="یک", match_kind="tag", match_value="VIP")
        with pytest.raises(catalog.CatalogError) as twice:
            catalog.save_price_list(name="یک", match_kind="tag", match_value="B")
        assert set(twice.value.errors) == {"name"}


def test_price_list_pages_create_a_list_and_set_a_price(app, client, make_user, login):
    from modules.sales.models.catalog import PriceListItem

    product = make_product(app, code="LAP", name="لپ‌تاپ", price=1_000_000)
    make_user("boss@example.ir", role="manager", seats=["sales"])
    login("boss@example.ir")
    empty = client.get("/sales/pricelists")
    assert "No price lists yet" in empty.get_data(as_text=True)
    page = client.get("/sales/pricelists/new")
    created = client.post("/sales/pricelists/new", data={
        "csrf_token": csrf_from(page), "name": "وفادار", "match_kind": "segment",
        "match_value": "", "match_field": "", "segment": "loyal", "priority": "۱۰",
        "active": "y"})
    assert created.status_code == 302, created.data[:2000]
    shown = client.get(created.headers["Location"])
    assert "Loyal" in shown.get_data(as_text=True)
    added = client.post(created.headers["Location"], data={
        "csrf_token": csrf_from(shown), "product_id": str(product), "price": "۹۵۰٬۰۰۰"})
    assert added.status_code == 302
    with app.app_context():
        item = db.session.query(PriceListItem).one()
        assert (item.product_id, item.price, item.price_list.priority) == (product, 950_000, 10)
    listed = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "950,000 Rial" in listed and "1,000,000 Rial" in listed
    lists = client.get("/sales/pricelists").get_data(as_text=True)
    assert "وفادار" in lists and "<td>1</td>" in lists  # products priced


def test_discount_limit_per_role(app, client, make_user, login):
    from core.admin.services import role_by_name
    from core.auth.models import User

    catalog = _catalog()
    make_user("boss@example.ir", role="manager", seats=["sales"])
    make_user("agent@example.ir", role="agent", seats=["sales"])
    make_user("admin@example.ir", role="admin")
    with app.app_context():
        users = {u.email: u for u in db.session.query(User)}
        assert catalog.discount_limit(users["admin@example.ir"]) == 100
        assert catalog.discount_limit(users["agent@example.ir"]) == 0
        assert catalog.discount_limit(None) == 0
        manager, agent = role_by_name("manager").id, role_by_name("agent").id
    login("boss@example.ir")
    page = client.get("/sales/discounts")
    refused = client.post("/sales/discounts", data={"csrf_token": csrf_from(page),
                                                    f"role_{manager}": "۱۲۰",
                                                    f"role_{agent}": "5"})
    assert "A discount is at most 100%." in refused.get_data(as_text=True)
    saved = client.post("/sales/discounts", data={"csrf_token": csrf_from(page),
                                                  f"role_{manager}": "۲۰",
                                                  f"role_{agent}": "۵"})
    assert saved.status_code == 302
    with app.app_context():
        users = {u.email: u for u in db.session.query(User)}
        assert catalog.discount_limit(users["boss@example.ir"]) == 20
        assert catalog.discount_limit(users["agent@example.ir"]) == 5
        assert catalog.discount_limit(users["admin@example.ir"]) == 100  # not configured


def test_public_services_find_products_and_deals(app):
    from modules.sales import services

    product = make_product(app, code="LAP-01", price=1000)
    customer = make_customer(app)
    with app.test_request_context():
        assert services.product_by_code("LAP-۰۱").id == product
        assert services.product_by_code("nothing") is None
        assert services.price_for(services.product_by_code("LAP-01"), None) == 1000
        assert services.customer_deals(customer) == []
