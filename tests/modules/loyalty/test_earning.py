"""Earning: posted invoices earn by the rules (category, tier, window), credit notes take
back, first-purchase and referral bonuses once, caps, birthdays once a year, preview = earned."""

from datetime import timedelta

import jdatetime
import pytest
from sqlalchemy import select

from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, member
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    post_invoice,
    set_company,
    user,
)
from tests.modules.service.ticket_helpers import make_customer

# 10% VAT on standard goods: a 1,000,000 laptop line totals 1,100,000 rials.


@pytest.fixture
def shop(app, make_user):
    """An admin with sales and loyalty seats, the company, a laptop (category "Laptops") and a
    cable (no category), the base spend rule: 1 point per 10,000 rials."""
    from modules.loyalty.models.rules import Rule
    from modules.sales.models.catalog import ProductCategory

    make_user(seats=["sales", "loyalty"])
    set_company(app)
    with app.app_context():
        category = ProductCategory(name="Laptops")
        db.session.add(category)
        db.session.add(Rule(name="Base", kind="spend", points=1, per_amount=10_000))
        db.session.commit()
        category_id = category.id
    return {"category": category_id,
            "laptop": make_product(app, code="LAP", price=1_000_000, category_id=category_id),
            "cable": make_product(app, code="CBL", name="کابل", price=100_000)}


def add_rule(app, **fields) -> int:
    from modules.loyalty.models.rules import Rule

    with app.app_context():
        rule = Rule(**fields)
        db.session.add(rule)
        db.session.commit()
        return rule.id


def add_tier(app, code, rank, **fields) -> int:
    from modules.loyalty.models.tiers import Tier

    with app.app_context():
        tier = Tier(code=code, name_fa=code, name_en=code.title(), rank=rank, **fields)
        db.session.add(tier)
        db.session.commit()
        return tier.id


def member_of(app, customer_id):
    from modules.loyalty.members import member_of as find

    return find(customer_id)


def entries(member_id, **where):
    from modules.loyalty.models.ledger import Entry

    stmt = select(Entry).where(Entry.member_id == member_id).order_by(Entry.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Entry, name) == value)
    return list(db.session.execute(stmt).scalars())


def buy(app, customer, shop, laptops=1, cables=0) -> int:
    items = []
    if laptops:
        items.append({"product_id": shop["laptop"], "quantity": laptops})
    if cables:
        items.append({"product_id": shop["cable"], "quantity": cables})
    return make_invoice(app, customer, items, post=True)


def credit(app, invoice_id, items=None) -> int:
    from modules.sales import invoices
    from modules.sales.models.documents import Invoice

    with app.test_request_context():
        note = invoices.create_credit_note(db.session.get(Invoice, invoice_id), items,
                                           by=user())
        db.session.commit()
        note_id = note.id
    post_invoice(app, note_id)
    return note_id


def test_invoice_earns_with_category_tier_and_window(app, shop):
    """2 laptops (2,200,000) + 3 cables (330,000) = 2,530,000 → 253 base points; laptops ×2 →
    +220; gold ×1.5 → +126; Nowruz window ×3 on this day → +506."""
    from modules.loyalty import earning, ledger

    with app.app_context():
        today = ledger.today()
    add_rule(app, name="Laptops double", kind="category", category_id=shop["category"],
             multiplier_bp=20000)
    window = add_rule(app, name="Nowruz week", kind="window", multiplier_bp=30000,
                      starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=5))
    add_rule(app, name="Old window", kind="window", multiplier_bp=50000,
             starts_on=today - timedelta(days=30), ends_on=today - timedelta(days=20))
    gold = add_tier(app, "gold", 3, min_points=10**9, multiplier_bp=15000)
    customer = make_buyer(app)
    with app.app_context():
        from core.customers.models import Customer
        from modules.loyalty.members import enrol

        enrolled = enrol(db.session.get(Customer, customer), via="manual")
        enrolled.tier_id = gold
        db.session.commit()
        member_id = enrolled.id
        expected = earning.preview(2_530_000, member=member(member_id), lines=[
            (shop["category"], 2_200_000), (None, 330_000)])
        assert [(row.name, row.points) for row in expected.rows] == [
            ("Base", 253), ("Laptops double", 220), ("Nowruz week", 506), ("Tier Gold", 126)]
        assert expected.total == 1105
    invoice_id = buy(app, customer, shop, laptops=2, cables=3)
    with app.app_context():
        got = entries(member_id, kind="earn")
        assert sum(e.points for e in got) == 1105 == member(member_id).balance
        assert {e.key: e.points for e in got} == {
            f"earn:sales.invoice:{invoice_id}:{got[0].rule_id}": 253,
            f"earn:sales.invoice:{invoice_id}:{got[1].rule_id}": 220,
            f"earn:sales.invoice:{invoice_id}:{window}": 506,
            f"earn:sales.invoice:{invoice_id}:tier": 126}
        assert got[0].amount == 2_530_000 and sum(e.amount for e in got) == 2_530_000
        assert all(e.reference == f"sales.invoice:{invoice_id}" for e in got)
        assert_ledger_ok(member_id)


def test_auto_enrol_first_purchase_once_and_credit_notes(app, shop):
    add_rule(app, name="Welcome", kind="first_purchase", points=50)
    customer = make_buyer(app)
    first = buy(app, customer, shop, laptops=2)  # 2,200,000 → 220 + 50
    with app.app_context():
        enrolled = member_of(app, customer)
        assert enrolled.enrolled_via == "purchase"
        member_id = enrolled.id
        assert member(member_id).balance == 270
    second = buy(app, customer, shop, laptops=1)  # 110, no second welcome
    with app.app_context():
        assert member(member_id).balance == 380
        assert len(entries(member_id, kind="earn", rule_id=_rule_id("Welcome"))) == 1
    credit(app, first, [{"product_id": shop["laptop"], "quantity": 1}])  # half: 135 back
    with app.app_context():
        assert member(member_id).balance == 245
        assert [e.points for e in entries(member_id, kind="reverse")] == [-135]
    credit(app, first, [{"product_id": shop["laptop"], "quantity": 1}])  # the rest: 135 back
    credit(app, second)  # full credit note: all 110
    with app.app_context():
        assert member(member_id).balance == 0
        assert [e.points for e in entries(member_id, kind="reverse")] == [-135, -135, -110]
        assert_ledger_ok(member_id)


def _rule_id(name):
    from modules.loyalty.models.rules import Rule

    return db.session.execute(select(Rule.id).where(Rule.name == name)).scalar()


def test_caps_per_day_and_per_member(app, shop):
    from modules.loyalty import earning

    add_rule(app, name="Laptop boost", kind="category", category_id=shop["category"],
             multiplier_bp=20000, cap_per_day=150, cap_per_member=250)
    customer = make_buyer(app)
    buy(app, customer, shop, laptops=1)  # base 110, boost 110
    buy(app, customer, shop, laptops=1)  # boost capped at 40 (150 a day)
    with app.app_context():
        member_id = member_of(app, customer).id
        rule_id = _rule_id("Laptop boost")
        assert [e.points for e in entries(member_id, rule_id=rule_id)] == [110, 40]
        assert member(member_id).balance == 110 * 3 + 40
        tomorrow = earning.ledger.today() + timedelta(days=1)
        shown = earning.preview(1_100_000, member=member(member_id),
                                lines=[(shop["category"], 1_100_000)], day=tomorrow)
        boost = next(row for row in shown.rows if row.rule and row.rule.id == rule_id)
        assert (boost.points, boost.capped) == (100, True)  # 250 ever, 150 used
        earned = earning.earn_for_purchase(member(member_id), amount=1_100_000,
                                           reference="pos:1", key="earn:pos:1",
                                           lines=[(shop["category"], 1_100_000)], day=tomorrow)
        assert sum(e.points for e in earned) == shown.total == 210
        db.session.commit()


def test_referral_bonus_both_sides_once(app, shop):
    from core.customers.models import Customer
    from modules.loyalty.members import enrol

    add_rule(app, name="Bring a friend", kind="referral", points=300)
    referrer_customer = make_customer(app, last_name="رضایی")
    friend_customer = make_buyer(app)
    with app.app_context():
        referrer = enrol(db.session.get(Customer, referrer_customer), via="manual")
        friend = enrol(db.session.get(Customer, friend_customer), via="referral",
                       referred_by=referrer)
        db.session.commit()
        referrer_id, friend_id = referrer.id, friend.id
    buy(app, friend_customer, shop, laptops=1)
    buy(app, friend_customer, shop, laptops=1)
    with app.app_context():
        assert member(friend_id).balance == 110 + 300 + 110
        assert member(referrer_id).balance == 300
        referrer_entries = entries(referrer_id)
        assert [(e.key, e.points) for e in referrer_entries] == [
            (f"earn:referral:{friend_id}:referrer", 300)]
        assert_ledger_ok(referrer_id)


def test_birthday_job_twice_gives_once(app, shop):
    from core.customers.models import Customer
    from modules.loyalty import earning, ledger

    add_rule(app, name="Birthday gift", kind="birthday", points=100)
    add_rule(app, name="Club anniversary", kind="anniversary", points=40)
    customer = make_buyer(app)
    buy(app, customer, shop, laptops=1)
    with app.app_context():
        today = ledger.today()
        j = jdatetime.date.fromgregorian(date=today)
        born = jdatetime.date(1370, j.month, min(j.day, 29)).togregorian()
        db.session.get(Customer, customer).birthday = born
        db.session.commit()
        member_id = member_of(app, customer).id
        day = today if j.day <= 29 else today - timedelta(days=1)
        assert earning.occasions(day) == 1
        assert earning.occasions(day) == 0
        assert member(member_id).balance == 110 + 100
        [gift] = entries(member_id, rule_id=_rule_id("Birthday gift"))
        year = jdatetime.date.fromgregorian(date=day).year
        assert gift.key == f"earn:birthday:{member_id}:{year}"
        # a year on, by the Jalali calendar: the anniversary too
        next_year = jdatetime.date(j.year + 1, j.month, min(j.day, 29)).togregorian()
        if j.day <= 29:
            assert earning.occasions(next_year) == 2
            assert earning.occasions(next_year) == 0
            assert member(member_id).balance == 110 + 100 + 100 + 40
        assert earning.occasions(day + timedelta(days=3)) == 0


def test_preview_equals_what_is_earned(app, shop):
    from modules.loyalty import earning

    add_rule(app, name="Laptops double", kind="category", category_id=shop["category"],
             multiplier_bp=25000, min_amount=500_000)
    add_rule(app, name="Welcome", kind="first_purchase", points=30)
    customer = make_buyer(app)
    with app.app_context():
        shown = earning.preview(1_430_000, lines=[(shop["category"], 1_100_000),
                                                  (None, 330_000)], first=True)
        assert [(row.name, row.points) for row in shown.rows] == [
            ("Base", 143), ("Laptops double", 165), ("Welcome", 30)]
    buy(app, customer, shop, laptops=1, cables=3)
    with app.app_context():
        member_id = member_of(app, customer).id
        assert member(member_id).balance == shown.total == 338
