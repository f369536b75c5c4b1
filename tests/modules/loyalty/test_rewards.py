"""Redeeming rewards: points and stock taken together, refusals that write nothing, the
catalogue's checks, cancelling gives everything back."""

import re

import pytest
from flask_babel import force_locale

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member
from tests.modules.loyalty.reward_helpers import (
    give_points,
    make_reward,
    make_tier,
    redeem,
)


def _counts(app, member_id):
    from modules.loyalty.models.ledger import Entry
    from modules.loyalty.models.rewards import Coupon, Redemption

    with app.app_context():
        return (member(member_id).balance,
                db.session.query(Entry).filter_by(member_id=member_id, kind="redeem").count(),
                db.session.query(Redemption).count(), db.session.query(Coupon).count())


def _stock(app, reward_id):
    from modules.loyalty.models.rewards import Reward

    with app.app_context():
        return db.session.get(Reward, reward_id).stock


def test_redeeming_takes_points_and_stock_and_issues_a_coupon(app):
    from modules.loyalty.models.ledger import Entry
    from modules.loyalty.models.rewards import Coupon, Redemption

    member_id = make_member(app)
    give_points(app, member_id, 250)
    reward_id = make_reward(app, cost_points=100, stock=3, valid_days=30, min_purchase=500_000)
    redemption_id, code = redeem(app, member_id, reward_id)
    assert re.fullmatch(r"PV-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", code)
    with app.app_context():
        assert member(member_id).balance == 150
        assert _stock(app, reward_id) == 2
        redemption = db.session.get(Redemption, redemption_id)
        entry = db.session.get(Entry, redemption.entry_id)
        assert (entry.kind, entry.points, entry.reference) == (
            "redeem", -100, f"loyalty.reward:{reward_id}")
        coupon = db.session.query(Coupon).filter_by(code=code).one()
        assert coupon.customer_id == member(member_id).customer_id
        assert (coupon.kind, coupon.percent_bp, coupon.min_purchase, coupon.status) == (
            "percent", 1000, 500_000, "issued")
        assert (coupon.valid_until - coupon.created_at.date()).days in (29, 30, 31)
        assert_ledger_ok(member_id)


@pytest.mark.parametrize("case", ["points", "stock", "tier", "off", "left"])
def test_a_refused_redemption_says_why_and_writes_nothing(app, case):
    from modules.loyalty import ledger
    from modules.loyalty.members import opt_out
    from modules.loyalty.models.rewards import Reward
    from modules.loyalty.rewards import RewardError, redeem_reward

    member_id = make_member(app)
    give_points(app, member_id, 120 if case != "points" else 80)
    fields = {"cost_points": 100, "stock": 5}
    if case == "stock":
        fields["stock"] = 0
    if case == "tier":
        make_tier(app, "silver", rank=1, name_en="Silver")
        fields["min_tier_id"] = make_tier(app, "gold", rank=2)
    if case == "off":
        fields["active"] = False
    reward_id = make_reward(app, **fields)
    if case == "left":
        with app.app_context():
            opt_out(member(member_id))
            db.session.commit()
    before = _counts(app, member_id)
    expected = {
        "points": "Not enough points: 100 wanted, 80 available.",
        "stock": "Ten percent off is out of stock.",
        "tier": "Ten percent off is for members of the Gold tier and above.",
        "off": "Ten percent off is not on offer any more.",
        "left": "This member has left the club; rejoin them to redeem rewards.",
    }[case]
    with app.test_request_context("/", method="POST"), force_locale("en"):
        with pytest.raises((RewardError, ledger.LedgerError)) as caught:
            redeem_reward(member(member_id), db.session.get(Reward, reward_id), channel="staff")
        assert str(caught.value) == expected
        db.session.commit()  # even a caller that commits after the refusal writes nothing
    assert _counts(app, member_id) == before
    assert _stock(app, reward_id) == fields["stock"]
    with app.app_context():
        assert_ledger_ok(member_id)


def test_a_member_of_the_tier_or_above_may_redeem(app):
    from modules.loyalty.rewards import available_rewards

    silver = make_tier(app, "silver", rank=1, name_en="Silver")
    gold = make_tier(app, "gold", rank=2)
    member_id = make_member(app)
    give_points(app, member_id, 500)
    gold_only = make_reward(app, min_tier_id=gold, cost_points=100)
    for_all = make_reward(app, name_fa="هدیه", name_en="Gift card", kind="gift_card",
                          percent_bp=0, amount=1_000_000, cost_points=300)
    sold_out = make_reward(app, stock=0)
    with app.app_context():
        m = member(member_id)
        m.tier_id = silver
        db.session.commit()
        assert [r.id for r in available_rewards(member(member_id))] == [for_all]
        member(member_id).tier_id = gold
        db.session.commit()
        assert [r.id for r in available_rewards(member(member_id))] == [gold_only, for_all]
    redeem(app, member_id, gold_only)
    assert sold_out  # never offered
    with app.app_context():
        assert member(member_id).balance == 400


def test_cancelling_returns_points_restocks_and_voids_the_coupon(app):
    from modules.loyalty.models.rewards import Coupon, Redemption
    from modules.loyalty.rewards import RewardError, cancel_redemption

    member_id = make_member(app)
    give_points(app, member_id, 100)
    reward_id = make_reward(app, stock=1)
    redemption_id, code = redeem(app, member_id, reward_id)
    assert _stock(app, reward_id) == 0
    with app.test_request_context("/", method="POST"), force_locale("en"):
        cancel_redemption(db.session.get(Redemption, redemption_id), by=None)
        db.session.commit()
        assert member(member_id).balance == 100
        assert db.session.query(Coupon).filter_by(code=code).one().status == "void"
        assert db.session.get(Redemption, redemption_id).status == "cancelled"
        with pytest.raises(RewardError, match="already cancelled"):
            cancel_redemption(db.session.get(Redemption, redemption_id), by=None)
        db.session.rollback()
        assert member(member_id).balance == 100
        assert_ledger_ok(member_id)
    assert _stock(app, reward_id) == 1


def test_a_redemption_whose_coupon_was_used_cannot_be_cancelled(app):
    from modules.loyalty import services
    from modules.loyalty.models.rewards import Redemption
    from modules.loyalty.rewards import RewardError, cancel_redemption
    from tests.modules.loyalty.reward_helpers import customer_of

    member_id = make_member(app)
    give_points(app, member_id, 100)
    redemption_id, code = redeem(app, member_id, make_reward(app))
    with app.test_request_context("/", method="POST"), force_locale("en"):
        assert services.use_coupon(code, customer_of(app, member_id), "sales.quote:1",
                                   1_000_000) == 100_000
        db.session.commit()
        with pytest.raises(RewardError) as caught:
            cancel_redemption(db.session.get(Redemption, redemption_id), by=None)
        assert str(caught.value) == (f"Coupon {code} has been used, so this redemption cannot "
                                     "be cancelled.")
        db.session.rollback()
        assert member(member_id).balance == 0


def test_the_catalogue_checks_each_kind(app):
    from modules.loyalty.rewards import RewardError, save_reward

    cases = [
        ({"kind": "coupon", "percent_bp": 1000, "amount": 5000},
         "percent_bp", "A coupon takes either a percent or an amount off, not both and not "
                       "neither."),
        ({"kind": "coupon", "amount": 5000, "max_discount": 1000},
         "max_discount", "Only a percent coupon has a largest discount."),
        ({"kind": "gift_card"}, "amount", "Enter the value of the gift card."),
        ({"kind": "gift_product", "product_id": 999}, "product_id",
         "Choose the product given as a gift."),
        ({"kind": "coupon", "amount": 5000, "cost_points": 0}, "cost_points",
         "the points it costs is out of range."),
        ({"kind": "coupon", "amount": 5000, "stock": -1}, "stock", "the stock is out of range."),
        ({"kind": "coupon", "amount": 5000, "name_fa": " ", "name_en": ""}, "name_fa",
         "Give the reward a name."),
    ]
    with app.test_request_context(), force_locale("en"):
        for fields, field, message in cases:
            values = {"name_fa": "جایزه", "cost_points": 10, **fields}
            with pytest.raises(RewardError) as caught:
                save_reward(None, **values)
            assert (caught.value.field, str(caught.value)) == (field, message), fields
            db.session.rollback()
        card = save_reward(None, kind="gift_card", name_fa="کارت هدیه", cost_points=500,
                           amount=2_000_000, percent_bp=0, max_discount=None)
        assert (card.amount, card.percent_bp, card.name_en) == (2_000_000, 0, "کارت هدیه")


def test_gift_product_is_redeemed_without_a_coupon_and_stock_can_be_added(app):
    from modules.loyalty.models.rewards import Reward
    from modules.loyalty.rewards import RewardError, add_stock
    from tests.modules.sales.document_helpers import make_product

    product = make_product(app, code="MUG", name="ماگ")
    reward_id = make_reward(app, kind="gift_product", percent_bp=0, product_id=product,
                            stock=1, name_en="Mug")
    member_id = make_member(app)
    give_points(app, member_id, 300)
    assert redeem(app, member_id, reward_id)[1] is None
    assert _stock(app, reward_id) == 0
    with app.test_request_context(), force_locale("en"):
        reward = db.session.get(Reward, reward_id)
        add_stock(reward, 5)
        with pytest.raises(RewardError, match="not that many units"):
            add_stock(reward, -6)
        db.session.commit()
    assert _stock(app, reward_id) == 5


# --- pages ---------------------------------------------------------------------------------

def test_staff_redeem_for_a_member_from_the_page(app, client, make_user, login):
    make_user(seats=["loyalty", "sales"])
    member_id = make_member(app)
    give_points(app, member_id, 150)
    reward_id = make_reward(app, stock=2)
    login()
    page = client.get(f"/loyalty/members/{member_id}/redeem?reward_id={reward_id}")
    assert page.status_code == 200
    assert f'data-redeem="{reward_id}"'.encode() in page.data
    response = client.post(f"/loyalty/members/{member_id}/redeem",
                           data={"csrf_token": csrf_from(page), "reward_id": reward_id})
    assert response.status_code == 302
    with app.app_context():
        from modules.loyalty.models.rewards import Redemption

        redemption = db.session.query(Redemption).one()
        assert (redemption.channel, redemption.points) == ("staff", 100)
        assert member(member_id).balance == 50
    listing = client.get(f"/loyalty/redemptions?member={member_id}&channel=staff")
    assert f'data-redemption="{redemption.id}"'.encode() in listing.data
    again = client.post(f"/loyalty/members/{member_id}/redeem",
                        data={"csrf_token": csrf_from(page), "reward_id": reward_id},
                        follow_redirects=True)
    assert "امتیاز کافی نیست".encode() in again.data or b"Not enough points" in again.data
    with app.app_context():
        assert member(member_id).balance == 50
    cancel = client.post(f"/loyalty/redemptions/{redemption.id}/cancel",
                         data={"csrf_token": csrf_from(listing)})
    assert cancel.status_code == 302
    with app.app_context():
        assert member(member_id).balance == 150
    assert _stock(app, reward_id) == 2


def test_catalogue_pages_and_permissions(app, client, make_user, login):
    make_user(seats=["loyalty"])
    make_user("clerk@example.ir", role="agent", seats=["loyalty"])
    login()
    form = client.get("/loyalty/rewards/new?kind=gift_card")
    assert b'data-reward-form="gift_card"' in form.data
    response = client.post("/loyalty/rewards/new", data={
        "csrf_token": csrf_from(form), "kind": "gift_card", "name_fa": "کارت هدیه",
        "name_en": "Gift card", "cost_points": "۵۰۰", "value": "2,000,000",
        "valid_days": "365", "active": "y"})
    assert response.status_code == 302, response.data.decode()[-2000:]
    with app.app_context():
        from modules.loyalty.models.rewards import Reward

        reward = db.session.query(Reward).one()
        assert (reward.kind, reward.cost_points, reward.valid_days) == ("gift_card", 500, 365)
        assert reward.amount == 2_000_000
        reward_id = reward.id
    listing = client.get("/loyalty/rewards")
    assert f'data-reward="{reward_id}"'.encode() in listing.data
    client.post(f"/loyalty/rewards/{reward_id}/switch",
                data={"csrf_token": csrf_from(listing)})
    with app.app_context():
        assert db.session.get(Reward, reward_id).active is False
    bad = client.post("/loyalty/rewards/new", data={
        "csrf_token": csrf_from(form), "kind": "coupon", "name_fa": "کوپن",
        "cost_points": "10", "percent": "10", "amount": "5000"})
    assert bad.status_code == 200 and b"is-invalid" in bad.data
    member_id = make_member(app)  # nobody's customer: outside an agent's own scope
    client.post("/auth/logout", data={"csrf_token": csrf_from(listing)})
    login("clerk@example.ir")
    # an agent reads the catalogue and serves their own members, but cannot edit it
    assert f'data-reward="{reward_id}"'.encode() in client.get("/loyalty/rewards").data
    assert b"data-switch" not in client.get("/loyalty/rewards").data
    assert client.get(f"/loyalty/rewards/{reward_id}/edit").status_code == 403
    assert client.get("/loyalty/rewards/new").status_code == 403
    assert client.get(f"/loyalty/members/{member_id}/redeem").status_code == 404
    assert client.get("/loyalty/coupons").status_code == 200


def test_editing_a_percent_coupon_keeps_its_percent(app, client, make_user, login):
    from modules.loyalty.models.rewards import Reward

    make_user(seats=["loyalty"])
    reward_id = make_reward(app, percent_bp=1250, max_discount=300_000)
    login()
    listing = client.get("/loyalty/rewards").get_data(as_text=True)
    assert "۱۲٫۵" in listing and "۱۲٫۵۰" not in listing
    form = client.get(f"/loyalty/rewards/{reward_id}/edit")
    assert 'value="۱۲٫۵"' in form.get_data(as_text=True)
    response = client.post(f"/loyalty/rewards/{reward_id}/edit", data={
        "csrf_token": csrf_from(form), "kind": "coupon", "name_fa": "تخفیف",
        "name_en": "Off", "cost_points": "120", "percent": "۱۲٫۵", "max_discount": "۳۰۰٬۰۰۰",
        "valid_days": "0", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        assert (reward.percent_bp, reward.max_discount, reward.cost_points, reward.valid_days) == (
            1250, 300_000, 120, 0)
