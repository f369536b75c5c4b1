"""Segment rules: every field and operator against a small hand-built dataset, exact ids."""

from datetime import UTC, date, datetime, timedelta

import jdatetime
import pytest
from flask_babel import force_locale

from core.analytics.models import CustomerScore, Purchase
from core.customers.models import Address, ContactPoint, Customer, CustomField, Note, Tag
from core.extensions import db
from core.messaging.addresses import opt_out
from modules.marketing import segments
from modules.marketing.models.segments import Segment, SegmentMember

NOW = datetime.now(UTC)


def _score(cid, segment, monetary, clv):
    return CustomerScore(customer_id=cid, recency_days=1, frequency=1, monetary=monetary,
                         r_score=3, f_score=3, m_score=3, segment=segment,
                         predicted_value_90d=clv, priority=1.0)


@pytest.fixture
def data(app):
    """Five customers with known attributes; returns their ids by name."""
    with app.app_context():
        vip = Tag(name="vip")
        db.session.add_all([vip, CustomField(name="size", label="Size", type="number"),
                            CustomField(name="color", label="Color", type="choice",
                                        choices=["red", "blue"])])
        this_year = jdatetime.date.today().year
        mehr_5 = jdatetime.date(this_year, 7, 5).togregorian()
        people = {
            "ali": Customer(display_name="Ali", kind="person", source="web",
                            consent_email=True, consent_sms=True,
                            custom={"size": 5, "color": "red"},
                            birthday=mehr_5.replace(year=1990), tags=[vip]),
            "sara": Customer(display_name="Sara", kind="person", source="fair",
                             consent_email=True, consent_sms=False, custom={"size": 12}),
            "acme": Customer(display_name="Acme", kind="organisation", source="web",
                             consent_email=False, consent_sms=True, custom={"color": "blue"}),
            "reza": Customer(display_name="Reza", kind="person", source="",
                             consent_email=True, consent_sms=True,
                             created_at=NOW - timedelta(days=400)),
            "gone": Customer(display_name="Gone", kind="person", source="web",
                             anonymised_at=NOW),
        }
        db.session.add_all(people.values())
        db.session.flush()
        ids = {k: c.id for k, c in people.items()}
        db.session.add_all([
            Address(customer_id=ids["ali"], city="تهران"),
            Address(customer_id=ids["acme"], city="اصفهان"),
            Address(customer_id=ids["sara"], city="تهران"),
            ContactPoint(customer_id=ids["ali"], kind="email", value="ali@example.ir"),
            ContactPoint(customer_id=ids["ali"], kind="mobile", value="+989121111111"),
            ContactPoint(customer_id=ids["sara"], kind="email", value="sara@example.ir"),
            ContactPoint(customer_id=ids["acme"], kind="mobile", value="+989122222222"),
            ContactPoint(customer_id=ids["reza"], kind="mobile", value="+989123333333"),
            _score(ids["ali"], "champions", 9_000_000, 4_000_000.0),
            _score(ids["sara"], "at_risk", 2_000_000, 500_000.0),
            Purchase(customer_id=ids["ali"], amount=5_000_000, source="pos",
                     occurred_at=NOW - timedelta(days=10)),
            Purchase(customer_id=ids["ali"], amount=4_000_000, source="pos",
                     occurred_at=NOW - timedelta(days=200)),
            Purchase(customer_id=ids["sara"], amount=2_000_000, source="pos",
                     occurred_at=NOW - timedelta(days=120)),
            Note(customer_id=ids["reza"], body="called", created_at=NOW - timedelta(days=3)),
        ])
        db.session.commit()
        return ids


def ids_of(tree, app):
    with app.app_context():
        seg = Segment(name="t", kind="dynamic", rules=segments.validate(tree))
        return set(db.session.execute(segments.members_statement(seg)).scalars())


def one(field, op, value=None, **extra):
    return {"match": "all", "rules": [{"field": field, "op": op, "value": value, **extra}]}


CASES = [
    (one("kind", "is", "organisation"), {"acme"}),
    (one("kind", "is_not", "organisation"), {"ali", "sara", "reza"}),
    (one("city", "is", "تهران"), {"ali", "sara"}),
    (one("city", "is", "تهران "), {"ali", "sara"}),
    (one("city", "contains", "اصف"), {"acme"}),
    (one("city", "is_not", "تهران"), {"acme", "reza"}),
    (one("source", "is", "web"), {"ali", "acme"}),
    (one("source", "contains", "fa"), {"sara"}),
    (one("created", "last_days", "30"), {"ali", "sara", "acme"}),
    (one("created", "to", (date.today() - timedelta(days=100)).isoformat()), {"reza"}),
    (one("birthday_month", "is", "7"), {"ali"}),
    (one("birthday_month", "is", "۸"), set()),
    (one("tag", "has", "vip"), {"ali"}),
    (one("tag", "has_not", "vip"), {"sara", "acme", "reza"}),
    (one("consent_sms", "is", "yes"), {"ali", "acme", "reza"}),
    (one("consent_email", "is", False), {"acme"}),
    (one("rfm", "is", "champions"), {"ali"}),
    (one("rfm", "is_not", "champions"), {"sara", "acme", "reza"}),
    (one("rfm", "is", ["champions", "at_risk"]), {"ali", "sara"}),
    (one("clv", "gte", "۱۰۰۰۰۰۰"), {"ali"}),
    (one("monetary", "between", ["1000000", "3000000"]), {"sara"}),
    (one("purchase_total", "gte", "9000000"), {"ali"}),
    (one("purchase_total", "gte", "3000000", days="30"), {"ali"}),
    (one("purchase_total", "lte", "2000000"), {"sara", "acme", "reza"}),
    (one("purchase_total", "between", ["1", "2000000"], days="150"), {"sara"}),
    (one("last_purchase", "last_days", "30"), {"ali"}),
    (one("last_purchase", "not_last_days", "30"), {"sara"}),
    (one("last_purchase", "never"), {"acme", "reza"}),
    (one("last_purchase", "to", (date.today() - timedelta(days=60)).isoformat()), {"sara"}),
    (one("last_activity", "last_days", "5"), {"reza"}),
    (one("last_activity", "not_last_days", "5"), {"ali", "sara"}),
    (one("custom.size", "gte", "10"), {"sara"}),
    (one("custom.size", "between", ["1", "6"]), {"ali"}),
    (one("custom.color", "is", "red"), {"ali"}),
    (one("custom.color", "is_not", "red"), {"acme", "sara", "reza"}),
]


@pytest.mark.parametrize("tree,expected", CASES, ids=[f"{c[0]['rules'][0]['field']}-"
                                                      f"{c[0]['rules'][0]['op']}-{i}"
                                                      for i, c in enumerate(CASES)])
def test_each_field_and_operator(app, data, tree, expected):
    assert ids_of(tree, app) == {data[k] for k in expected}


def test_nested_any_all_groups(app, data):
    tree = {"match": "all", "rules": [
        {"field": "kind", "op": "is", "value": "person"},
        {"match": "any", "rules": [
            {"field": "city", "op": "is", "value": "تهران"},
            {"match": "all", "rules": [{"field": "consent_sms", "op": "is", "value": "1"},
                                       {"field": "last_purchase", "op": "never"}]}]}]}
    assert ids_of(tree, app) == {data["ali"], data["sara"], data["reza"]}
    tree["rules"][1]["match"] = "all"
    assert ids_of(tree, app) == set()
    assert ids_of({"match": "any", "rules": []}, app) == {data[k] for k in
                                                          ("ali", "sara", "acme", "reza")}


def test_jalali_dates_with_persian_digits_are_stored_as_iso(app, data):
    with app.app_context():
        clean = segments.validate(one("created", "from", "۱۴۰۳/۰۱/۰۱"))
    assert clean["rules"][0]["value"] == "2024-03-20"


def test_count_remembers_and_consent_filtering(app, data):
    with app.app_context():
        seg = Segment(name="all", kind="dynamic", rules=segments.empty_rules())
        db.session.add(seg)
        db.session.commit()
        assert segments.count(seg) == 4 and seg.last_count == 4
        opt_out("sms", "09121111111")
        db.session.commit()
        sms = set(db.session.execute(segments.segment_customer_ids(seg, "sms")).scalars())
        email = set(db.session.execute(segments.segment_customer_ids(seg, "email")).scalars())
        # ali opted out of SMS, sara has no SMS consent, reza has no email address
        assert sms == {data["acme"], data["reza"]}
        assert email == {data["ali"], data["sara"]}
        names = [c.display_name for c in db.session.execute(
            segments.members(seg, consenting="email")).scalars()]
        assert names == ["Ali", "Sara"]


def test_static_lists_use_their_members(app, data):
    with app.app_context():
        seg = Segment(name="list", kind="static", rules={})
        db.session.add(seg)
        db.session.flush()
        db.session.add_all([SegmentMember(segment_id=seg.id, customer_id=data["sara"]),
                            SegmentMember(segment_id=seg.id, customer_id=data["gone"])])
        db.session.commit()
        assert set(db.session.execute(segments.members_statement(seg)).scalars()) == {
            data["sara"]}
        assert segments.count(seg) == 1


@pytest.mark.parametrize("tree,message", [
    (one("shoe_size", "is", "4"), "There is no field named shoe_size"),
    (one("kind", "gte", "4"), "cannot be used with the operator gte"),
    (one("kind", "is", "robot"), "robot is not one of the choices"),
    (one("created", "from", "1403/13/01"), "has no month 13"),
    (one("clv", "gte", "lots"), "Predicted value"),
    (one("monetary", "between", ["5", "1"]), "must not be greater"),
    (one("tag", "has", "nope"), "nope is not one of the choices"),
    ({"match": "some", "rules": []}, "Match must be all or any"),
])
def test_validation_messages(app, data, tree, message):
    with app.app_context(), force_locale("en"):
        with pytest.raises(segments.RuleError) as caught:
            segments.validate(tree)
    assert message in str(caught.value)


def test_registered_fields_appear_only_while_active(app, data):
    state = {"on": False}
    segments.register_field("loyalty_tier", "Loyalty tier",
                            lambda op, rule, now: Customer.source == rule["value"],
                            choices=lambda: [("web", "Gold")], active=lambda: state["on"])
    try:
        with app.app_context(), force_locale("en"), pytest.raises(segments.RuleError):
            segments.validate(one("loyalty_tier", "is", "web"))
        state["on"] = True
        assert ids_of(one("loyalty_tier", "is", "Gold"), app) == {data["ali"], data["acme"]}
    finally:
        from modules.marketing import segment_fields
        segment_fields._REGISTERED.pop("loyalty_tier")


def test_bought_from_a_product_category_uses_posted_sales_invoices(app, data):
    from modules.sales.models.catalog import ProductCategory
    from tests.modules.sales.document_helpers import make_product
    from tests.modules.sales.test_rules import add_invoices

    with app.app_context():
        laptops = ProductCategory(name="لپ‌تاپ")
        db.session.add(laptops)
        db.session.commit()
        category = laptops.id
    laptop = make_product(app, code="LAP", category_id=category)
    mouse = make_product(app, code="MOU", name="ماوس")
    add_invoices(app, data["ali"], [[laptop, mouse]])
    add_invoices(app, data["sara"], [[mouse]])
    add_invoices(app, data["acme"], [[laptop]], status="draft")  # not posted: not bought
    assert ids_of(one("product_category", "has", str(category)), app) == {data["ali"]}
    assert ids_of(one("product_category", "has", "لپ‌تاپ"), app) == {data["ali"]}
    assert ids_of(one("product_category", "has_not", str(category)), app) == {
        data["sara"], data["acme"], data["reza"]}


def test_counting_is_remembered_without_an_audit_entry(app, data):
    from core.audit import AuditLog

    with app.app_context():
        seg = Segment(name="all", kind="dynamic", rules=segments.empty_rules())
        db.session.add(seg)
        db.session.commit()
        before = db.session.execute(db.select(db.func.count(AuditLog.id))).scalar()
        changed_at = seg.updated_at
        assert segments.count(seg) == 4
        db.session.commit()
        db.session.expire_all()
        assert seg.last_count == 4 and seg.counted_at is not None
        assert seg.updated_at == changed_at
        assert db.session.execute(db.select(db.func.count(AuditLog.id))).scalar() == before
