"""The club with the rest of the CRM: customer merge (balances and lots combine), anonymising,
the member's owner following the customer's, marketing segment fields, the dashboard widget."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from core.customers.models import Customer
from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member
from tests.modules.service.ticket_helpers import make_customer, sign_in


def _customer(member_id) -> Customer:
    return db.session.get(Customer, member(member_id).customer_id)


def test_merging_two_members_combines_balances_and_lots(app):
    from core.customers.merge import merge_customers
    from modules.loyalty import ledger
    from modules.loyalty.members import member_of
    from modules.loyalty.models.ledger import Lot
    from modules.loyalty.models.members import Member

    keep = make_member(app, last_name="یک")
    lose = make_member(app, last_name="دو")
    third = make_member(app, last_name="سه")
    with app.test_request_context():
        today = ledger.today()
        ledger.earn(member(keep), 500, reason="a", expires_on=today + timedelta(days=90))
        ledger.earn(member(lose), 300, reason="b", expires_on=today + timedelta(days=10))
        ledger.earn(member(lose), 80, reason="c", pending_days=14)
        ledger.redeem(member(lose), 100, reason="reward")
        member(third).referred_by_id = lose
        db.session.commit()
        survivor_customer, loser_customer = _customer(keep), _customer(lose)
        merge_customers(survivor_customer, loser_customer)
        db.session.commit()
        survivor = member(keep)
        assert (survivor.balance, survivor.pending) == (700, 80)
        assert survivor.lifetime_earned == 880 and survivor.lifetime_redeemed == 100
        assert db.session.get(Member, lose) is None
        assert member_of(survivor.customer_id).id == keep
        assert member(third).referred_by_id == keep
        lots = sorted(db.session.execute(select(Lot.points, Lot.remaining, Lot.status).where(
            Lot.member_id == keep)).all())
        assert lots == [(80, 80, "pending"), (300, 200, "available"),
                        (500, 500, "available")]
        assert_ledger_ok(keep)
        ledger.redeem(member(keep), 250, reason="after the merge")  # soonest expiry first
        db.session.commit()
        assert db.session.execute(select(Lot.remaining).where(
            Lot.member_id == keep, Lot.points == 300)).scalar() == 0
        assert_ledger_ok(keep)


def test_merging_into_a_customer_who_is_not_a_member_moves_the_membership(app):
    from core.customers.merge import merge_customers
    from modules.loyalty import ledger
    from modules.loyalty.members import member_of

    lose = make_member(app, last_name="عضو")
    plain = make_customer(app, None, last_name="غیرعضو")
    with app.test_request_context():
        ledger.earn(member(lose), 90, reason="a")
        db.session.commit()
        merge_customers(db.session.get(Customer, plain), _customer(lose))
        db.session.commit()
        moved = member_of(plain)
        assert moved.id == lose and moved.balance == 90
        assert_ledger_ok(lose)


def test_anonymising_a_customer_ends_the_membership_but_keeps_the_ledger(app):
    from core.customers.anonymise import anonymise_customer
    from modules.loyalty import ledger

    member_id = make_member(app, mobiles=["09121234567"], consent_sms=True)
    with app.test_request_context():
        ledger.earn(member(member_id), 60, reason="a")
        anonymise_customer(_customer(member_id))
        db.session.commit()
        assert member(member_id).status == "opted_out"
        assert member(member_id).balance == 60
        assert_ledger_ok(member_id)


def test_member_owner_follows_the_customer(app, make_user):
    from core.auth.models import User
    from core.customers.services import update_customer

    make_user("ali@example.ir", role="agent", seats=["loyalty"])
    member_id = make_member(app)
    with app.test_request_context():
        ali = db.session.execute(select(User).where(User.email == "ali@example.ir")).scalar()
        update_customer(_customer(member_id), owner_id=ali.id)
        db.session.commit()
        assert member(member_id).owner_id == ali.id
    listed = sign_in(app, "ali@example.ir").get("/loyalty/members").get_data(as_text=True)
    assert f'data-member="{member_id}"' in listed


def test_segment_fields_club_tier_and_points_balance(app):
    from modules.loyalty import ledger
    from modules.loyalty.models.tiers import Tier
    from modules.marketing import segments
    from modules.marketing.models.segments import Segment

    gold_member = make_member(app, last_name="طلایی")
    rich = make_member(app, last_name="پرامتیاز")
    make_customer(app, None, last_name="غیرعضو")
    with app.test_request_context():
        gold = Tier(code="gold", name_fa="طلایی", name_en="Gold", rank=3)
        db.session.add(gold)
        db.session.flush()
        member(gold_member).tier_id = gold.id
        ledger.earn(member(rich), 5000, reason="a")
        ledger.earn(member(gold_member), 100, reason="a")
        db.session.commit()
        customers = {mid: member(mid).customer_id for mid in (gold_member, rich)}

        def ids(field, op, value):
            tree = {"match": "all", "rules": [{"field": field, "op": op, "value": value}]}
            seg = Segment(name="t", kind="dynamic", rules=segments.validate(tree))
            return set(db.session.execute(segments.members_statement(seg)).scalars())

        assert ids("loyalty_tier", "is", str(gold.id)) == {customers[gold_member]}
        assert customers[gold_member] not in ids("loyalty_tier", "is_not", str(gold.id))
        assert ids("loyalty_balance", "gte", "1000") == {customers[rich]}
        assert ids("loyalty_balance", "between", ["50", "200"]) == {customers[gold_member]}


def test_dashboard_widget_counts_members_and_outstanding_points(app, make_user):
    from modules.loyalty import ledger

    make_user("admin@example.ir", seats=["loyalty"])
    first, second = make_member(app), make_member(app)
    with app.test_request_context():
        ledger.earn(member(first), 1500, reason="a")
        ledger.earn(member(second), 500, reason="a")
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(
            type(member(first)))) == 2
    html = sign_in(app, "admin@example.ir").get("/").get_data(as_text=True)
    assert re.search(r"data-members>۲<", html)
    assert re.search(r"data-active>۲<", html)
    assert re.search(r"data-outstanding>۲٬۰۰۰<", html)
