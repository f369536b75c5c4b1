"""Rule and tier pages: add, validate, switch off, preview with its breakdown; tiers with
member counts and history; loyalty.view reads, loyalty.manage changes."""

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.loyalty.club_helpers import make_member, member


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def admin(app, make_user, login):
    from modules.sales.models.catalog import ProductCategory

    make_user(seats=["loyalty", "sales"], locale="en")
    with app.app_context():
        db.session.add(ProductCategory(name="Laptops"))
        db.session.commit()
    login()


def _category_id():
    from modules.sales.models.catalog import ProductCategory

    return db.session.execute(select(ProductCategory.id)).scalar()


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_add_rules_validate_preview_and_switch_off(app, client, admin):
    from modules.loyalty.models.rules import Rule

    page = client.get("/loyalty/rules/new")
    token = csrf_from(page)
    # a spend rule without its amount is refused, nothing is saved, the name stays
    bad = client.post("/loyalty/rules/new", data={
        "csrf_token": token, "name": "Base", "kind": "spend", "points": "1", "per_amount": "",
        "category_id": "0", "tier_id": "0", "active": "y"})
    with app.app_context(), force_locale("en"):
        assert "Give the amount that earns these points." in _text(bad)
        assert 'value="Base"' in _text(bad)
        assert db.session.execute(select(Rule)).first() is None
    ok = client.post("/loyalty/rules/new", data={
        "csrf_token": token, "name": "Base", "kind": "spend", "points": "۱",
        "per_amount": "100,000", "category_id": "0", "tier_id": "0", "active": "y"})
    assert ok.status_code == 302
    with app.app_context():
        category = _category_id()
    # a window whose end is before its start, and a multiplier of 1, are refused
    bad = client.post("/loyalty/rules/new", data={
        "csrf_token": token, "name": "Nowruz", "kind": "window", "multiplier": "1",
        "starts_on": "1405/01/10", "ends_on": "1405/01/01", "category_id": "0",
        "tier_id": "0", "active": "y"})
    text = _text(bad)
    assert "The last day is before the first day." in text
    assert "Give a multiplier above 1, e.g. 2." in text
    assert client.post("/loyalty/rules/new", data={
        "csrf_token": token, "name": "Laptops double", "kind": "category", "multiplier": "2",
        "category_id": str(category), "tier_id": "0", "active": "y"}).status_code == 302
    with app.app_context():
        rules = {r.name: r for r in db.session.execute(select(Rule)).scalars()}
        assert (rules["Base"].points, rules["Base"].per_amount) == (1, 100_000)
        assert (rules["Laptops double"].multiplier_bp,
                rules["Laptops double"].category_id) == (20000, category)
        double_id = rules["Laptops double"].id

    preview = _text(client.get(f"/loyalty/rules?amount=1,000,000&category_id={category}"
                               "&tier_id=0&day=1405/01/05"))
    assert ("A purchase of 1,000,000 Rial in Laptops on 1405/01/05 earns 20 points."
            in preview), preview[preview.find("data-preview-result"):][:400]
    assert re.search(r"Base</td><td>1 for every 100,000 Rial</td><td class=\"text-end\">10<",
                     preview)
    assert re.search(r"Laptops double</td><td>×2</td><td class=\"text-end\">10<", preview)

    switched = client.post(f"/loyalty/rules/{double_id}/switch",
                           data={"csrf_token": token}, follow_redirects=True)
    assert "switched off; points it gave stay." in _text(switched)
    with app.app_context():
        assert db.session.get(Rule, double_id).active is False
    preview = _text(client.get(f"/loyalty/rules?amount=1000000&category_id={category}"
                               "&tier_id=0"))
    assert "earns 10 points." in preview


def test_tiers_with_counts_history_and_validation(app, client, admin):
    from modules.loyalty import earning
    from modules.loyalty.models.rules import Rule
    from modules.loyalty.models.tiers import Tier

    token = csrf_from(client.get("/loyalty/tiers/new"))
    base = {"csrf_token": token, "color": "secondary", "active": "y", "multiplier": "1"}
    assert client.post("/loyalty/tiers/new", data={
        **base, "code": "bronze", "name_fa": "برنزی", "name_en": "Bronze",
        "rank": "1"}).status_code == 302
    assert client.post("/loyalty/tiers/new", data={
        **base, "code": "gold", "name_fa": "طلایی", "name_en": "Gold", "rank": "2",
        "min_points": "100", "multiplier": "1.5", "discount": "5",
        "sla_class": "vip"}).status_code == 302
    bad = _text(client.post("/loyalty/tiers/new", data={
        **base, "code": "Gold Tier", "name_fa": "x", "name_en": "x", "rank": "2"}))
    assert "Use Latin letters, digits, - or _ only." in bad
    assert "Tier Gold already has this rank." in bad
    with app.app_context():
        gold = db.session.execute(select(Tier).where(Tier.code == "gold")).scalar()
        assert (gold.min_points, gold.multiplier_bp, gold.discount_bp, gold.sla_class) == (
            100, 15000, 500, "vip")
        db.session.add(Rule(name="Base", kind="spend", points=1, per_amount=10_000))
        db.session.commit()
    member_id = make_member(app)
    make_member(app, last_name="دوم")
    with app.test_request_context():
        earning.earn_for_purchase(member(member_id), amount=1_000_000, reference="pos:1",
                                  key="earn:pos:1")
        db.session.commit()
        assert member(member_id).tier.code == "gold"
    page = _text(client.get("/loyalty/tiers"))
    counts = re.findall(r'data-tier="\d+".*?data-member-count>(\d+)<', page)
    assert counts == ["1", "1"]  # gold first (highest rank), then bronze
    assert "Upgraded" in page and "×1.5" in page and "5%" in page


def test_permissions(app, client, make_user, login):
    make_user(seats=["loyalty"], locale="en")
    make_user("agent@example.ir", role="agent", seats=["loyalty"], locale="en")
    login("agent@example.ir")
    assert client.get("/loyalty/rules").status_code == 200
    assert client.get("/loyalty/tiers").status_code == 200
    assert client.get("/loyalty/rules/new").status_code == 403
    assert client.get("/loyalty/tiers/new").status_code == 403
    page = _text(client.get("/loyalty/rules"))
    assert "No earning rules yet" in page and "/loyalty/rules/new" not in page


def test_pages_in_persian(app, client, make_user, login):
    from modules.loyalty.models.rules import Rule
    from modules.loyalty.models.tiers import Tier

    make_user(seats=["loyalty"], locale="fa")
    with app.app_context():
        db.session.add(Rule(name="پایه", kind="spend", points=1, per_amount=100_000))
        db.session.add(Tier(code="gold", name_fa="طلایی", name_en="Gold", rank=1,
                            min_points=1000, multiplier_bp=15000, discount_bp=250))
        db.session.commit()
        tier_id = db.session.execute(select(Tier.id)).scalar()
    login()
    page = _text(client.get(f"/loyalty/rules?amount=۲٬۰۰۰٬۰۰۰&category_id=0&tier_id={tier_id}"))
    assert "data-preview-total" in page and "طلایی" in page
    assert re.search(r"data-preview-total>[^<]*۳۰[^<]*</p>", page)  # 20 + 10 for gold
    tiers = _text(client.get("/loyalty/tiers"))
    assert "×۱٫۵" in tiers and "۲٫۵٪" in tiers
