"""Merging two customers: everything moves, chosen values win, handlers share the transaction."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.analytics.models import CustomerScore, Purchase
from core.analytics.services import record_purchase
from core.audit import AuditLog
from core.customers.merge import CustomerMerge, MergeError, add_merge_handler, merge_customers
from core.customers.models import Affiliation, ContactPoint, Customer, Note, Task
from core.customers.services import add_note, affiliate
from core.customers.tasks import add_task
from core.customers.timeline import timeline
from core.database import get_setting, set_setting
from core.events import customers_merged
from core.extensions import db
from tests.core.customers.conftest import national_code


@pytest.fixture
def pair(app, make_user, make_customer):
    """Two records of one person, each with contacts, history, a purchase and a score."""
    make_user("admin@example.ir")
    make_user("b@example.ir", role="agent")
    survivor = make_customer("admin@example.ir", first_name="علی", last_name="کریمی",
                             mobiles=["09123456789"], emails=["ali@example.ir"],
                             tags=["ویژه"], address={"city": "اصفهان", "line": "خیابان اول"},
                             source="نمایشگاه")
    loser = make_customer("b@example.ir", first_name="علي", last_name="كريمي",
                          mobiles=["09123456789", "09350001122"], emails=["k@example.ir"],
                          tags=["ویژه", "عمده"], national_code=national_code(),
                          birthday=date(1991, 8, 3),
                          address={"city": "اصفهان", "line": "خیابان دوم"})
    org = make_customer(kind="organisation", legal_name="شرکت پارس")
    with app.test_request_context():
        s, lo, o = (db.session.get(Customer, i) for i in (survivor, loser, org))
        add_note(lo, "تماس درباره سفارش", kind="call")
        add_task(lo, "ارسال پیش‌فاکتور")
        affiliate(lo, o, "مدیر خرید")
        affiliate(s, o, "")
        when = datetime(2024, 5, 1, tzinfo=UTC)
        record_purchase(loser, 5_000_000, when, "pos", key="pos-1")
        record_purchase(survivor, 1_000_000, when, "pos", key="pos-2")
        for customer_id in (survivor, loser):
            db.session.add(CustomerScore(customer_id=customer_id, recency_days=1, frequency=1,
                                         monetary=1, r_score=5, f_score=1, m_score=1,
                                         segment="new"))
        db.session.commit()
    return survivor, loser, org


def _merge(app, survivor_id, loser_id, keep=None):
    with app.test_request_context(method="POST"):
        survivor, loser = db.session.get(Customer, survivor_id), db.session.get(Customer, loser_id)
        merge_customers(survivor, loser, keep)
        db.session.commit()


def test_merge_moves_everything_to_the_survivor(app, pair):
    survivor_id, loser_id, org_id = pair
    heard = []

    def listener(sender, survivor, loser):
        heard.append((survivor.id, loser.id))

    with customers_merged.connected_to(listener):
        _merge(app, survivor_id, loser_id)
    with app.test_request_context():
        assert db.session.get(Customer, loser_id) is None
        survivor = db.session.get(Customer, survivor_id)
        assert sorted(survivor.values("mobile")) == ["+989123456789", "+989350001122"]
        assert db.session.scalar(select(func.count()).select_from(ContactPoint).where(
            ContactPoint.value == "+989123456789")) == 1  # deduplicated
        assert survivor.mobile == "+989123456789"  # the survivor's primary stays primary
        assert sorted(survivor.values("email")) == ["ali@example.ir", "k@example.ir"]
        assert sorted(a.line for a in survivor.addresses) == ["خیابان اول", "خیابان دوم"]
        assert sorted(t.name for t in survivor.tags) == ["عمده", "ویژه"]
        # names default to the survivor's; gaps are filled from the loser
        assert survivor.display_name == "علی کریمی"
        assert survivor.birthday == date(1991, 8, 3)
        assert survivor.national_code == national_code()
        assert survivor.source == "نمایشگاه"
        assert "09350001122" in survivor.search_key
        assert [n.body for n in db.session.scalars(
            select(Note).where(Note.customer_id == survivor_id))] == ["تماس درباره سفارش"]
        assert [t.title for t in db.session.scalars(
            select(Task).where(Task.customer_id == survivor_id))] == ["ارسال پیش‌فاکتور"]
        assert sorted(db.session.scalars(select(Purchase.amount).where(
            Purchase.customer_id == survivor_id))) == [1_000_000, 5_000_000]
        links = db.session.scalars(select(Affiliation)).all()
        assert [(a.person_id, a.organisation_id, a.role) for a in links] == [
            (survivor_id, org_id, "مدیر خرید")]  # one link, the loser's role filled the gap
        assert list(db.session.scalars(select(CustomerScore.customer_id))) == [survivor_id]
        tombstone = db.session.scalars(select(CustomerMerge)).one()
        assert (tombstone.survivor_id, tombstone.loser_id) == (survivor_id, loser_id)
        audits = db.session.scalars(select(AuditLog).where(
            AuditLog.action == "customer.merge")).all()
        assert len(audits) == 1 and audits[0].target == f"customer:{survivor_id}"
        assert audits[0].detail["loser_id"] == loser_id
        assert audits[0].detail["kept"]["birthday"] == loser_id
        assert audits[0].detail["moved"]["notes"] == 1
    assert heard == [(survivor_id, loser_id)]


def test_the_survivors_timeline_shows_the_losers_entries(app, pair):
    survivor_id, loser_id, _org = pair
    _merge(app, survivor_id, loser_id)
    with app.test_request_context():
        entries = timeline(db.session.get(Customer, survivor_id))
    kinds = {e.kind: e for e in entries}
    assert kinds["call"].detail == "تماس درباره سفارش"
    assert "ارسال پیش‌فاکتور" in kinds["task"].title
    assert kinds["merge"].detail == "علي كريمي"


def test_chosen_values_win(app, pair):
    survivor_id, loser_id, _org = pair
    _merge(app, survivor_id, loser_id, {"first_name": loser_id, "last_name": loser_id,
                                        "birthday": survivor_id, "source": loser_id})
    with app.app_context():
        survivor = db.session.get(Customer, survivor_id)
        assert (survivor.first_name, survivor.last_name) == ("علي", "كريمي")
        assert survivor.display_name == "علي كريمي"  # follows the chosen names
        assert survivor.birthday is None  # the survivor's empty value was chosen
        assert survivor.source == ""


def test_handlers_run_inside_the_merge_transaction(app, pair):
    survivor_id, loser_id, _org = pair
    seen = []

    def module_handler(survivor, loser):
        # the core rows have already moved, in the same (uncommitted) transaction
        seen.append(db.session.scalar(select(func.count()).select_from(Note).where(
            Note.customer_id == survivor)))
        set_setting("test.merged", [survivor, loser])

    add_merge_handler(app, module_handler)
    _merge(app, survivor_id, loser_id)
    assert seen == [1]
    with app.app_context():
        assert get_setting("test.merged") == [survivor_id, loser_id]


def test_a_failing_handler_undoes_the_whole_merge(app, pair):
    survivor_id, loser_id, _org = pair

    def writes(survivor, loser):
        set_setting("test.merged", [survivor, loser])

    def fails(survivor, loser):
        raise RuntimeError("ledger is locked")

    add_merge_handler(app, writes)
    add_merge_handler(app, fails)
    with app.test_request_context(method="POST"):
        survivor, loser = db.session.get(Customer, survivor_id), db.session.get(Customer, loser_id)
        with pytest.raises(MergeError, match="ledger is locked"):
            merge_customers(survivor, loser)
        db.session.rollback()
    with app.app_context():
        assert get_setting("test.merged") is None
        loser = db.session.get(Customer, loser_id)
        assert loser is not None and loser.values("email") == ["k@example.ir"]
        assert db.session.scalar(select(Note.customer_id)) == loser_id
        assert db.session.scalar(select(Purchase.customer_id).where(
            Purchase.amount == 5_000_000)) == loser_id
        assert db.session.scalar(select(func.count()).select_from(CustomerScore)) == 2
        assert db.session.scalar(select(func.count()).select_from(CustomerMerge)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "customer.merge")) == 0


def test_merging_again_follows_the_chain(app, pair, make_customer):
    survivor_id, loser_id, _org = pair
    third = make_customer("admin@example.ir", first_name="علی", last_name="کریمی")
    _merge(app, survivor_id, loser_id)
    _merge(app, third, survivor_id)
    with app.app_context():
        assert {m.loser_id: m.survivor_id for m in db.session.scalars(select(CustomerMerge))} \
            == {loser_id: third, survivor_id: third}


def test_what_cannot_be_merged(app, pair):
    from flask_babel import force_locale

    survivor_id, loser_id, org_id = pair
    with app.test_request_context(method="POST"), force_locale("en"):
        survivor, loser, org = (db.session.get(Customer, i)
                                for i in (survivor_id, loser_id, org_id))
        with pytest.raises(MergeError, match="person and an organisation"):
            merge_customers(survivor, org)
        with pytest.raises(MergeError, match="two different"):
            merge_customers(survivor, survivor)
        with pytest.raises(MergeError, match="not a field"):
            merge_customers(survivor, loser, {"password": loser_id})
        with pytest.raises(MergeError, match="one of the two"):
            merge_customers(survivor, loser, {"birthday": org_id})


def test_custom_fields_are_united_and_chosen(app, client, make_user, login, make_customer):
    from core.customers.custom_fields import define_field

    make_user("admin@example.ir")
    with app.app_context():
        define_field("colour", "رنگ", "choice", ["آبی", "قرمز"])
        define_field("since", "مشتری از", "date")
        define_field("vip", "ویژه", "bool")
        db.session.commit()
    survivor = make_customer(first_name="الف", custom={"colour": "قرمز", "vip": True})
    loser = make_customer(first_name="الف", custom={"colour": "آبی", "since": "۱۴۰۲/۰۱/۰۱"})
    login("admin@example.ir")
    page = client.get(f"/customers/merge?a={survivor}&b={loser}").get_data(as_text=True)
    assert 'data-field="custom.colour"' in page and "۱۴۰۲/۰۱/۰۱" in page
    _merge(app, survivor, loser, {"custom.colour": loser})
    with app.app_context():
        assert db.session.get(Customer, survivor).custom == {
            "colour": "آبی", "since": "2023-03-21", "vip": True}
