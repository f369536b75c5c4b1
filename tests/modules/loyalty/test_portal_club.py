"""The portal's club pages: join, own points only, expiring points, redeem a reward."""

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.core.portal.helpers import make_customer, portal_sign_in


def _member_of(app, customer_id):
    from modules.loyalty.members import member_of

    with app.app_context():
        member = member_of(customer_id)
        return member.id if member else None


def _earn(app, member_id, points, **kw):
    from modules.loyalty import ledger
    from modules.loyalty.models.members import Member

    with app.test_request_context():
        ledger.earn(db.session.get(Member, member_id), points, reason="خرید", **kw)
        db.session.commit()


def test_a_customer_joins_and_sees_only_their_own_points(app, client, make_user):
    from modules.loyalty.members import enrol

    make_user()
    mine = make_customer(app)
    other = make_customer(app, name="رضا کریمی", mobiles=("+989350001122",),
                          emails=("reza@example.ir",))
    with app.test_request_context():
        from core.customers.models import Customer

        other_member = enrol(db.session.get(Customer, other)).id
        db.session.commit()
    _earn(app, other_member, 999)
    portal_sign_in(app, client)
    page = client.get("/portal/club/")
    assert "data-club-join" in page.text
    response = client.post("/portal/club/join", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    member_id = _member_of(app, mine)
    assert member_id is not None
    with app.app_context():
        from modules.loyalty import ledger

        soon = ledger.today() + timedelta(days=10)
    _earn(app, member_id, 1250, reference="sales.invoice:1", expires_on=soon)
    page = client.get("/portal/club/")
    assert "۱٬۲۵۰" in page.text and "۹۹۹" not in page.text
    assert "data-expiring" in page.text
    with app.app_context():
        from modules.loyalty.models.members import Member

        card = db.session.get(Member, member_id).card_number
    from core.i18n import to_persian_digits

    assert to_persian_digits(card) in page.text


def test_redeem_a_reward_from_the_portal(app, client, make_user):
    from modules.loyalty.members import enrol
    from modules.loyalty.models.ledger import Entry
    from modules.loyalty.models.rewards import Redemption, Reward

    make_user()
    mine = make_customer(app)
    with app.test_request_context():
        from core.customers.models import Customer

        member_id = enrol(db.session.get(Customer, mine)).id
        reward = Reward(kind="coupon", name_fa="تخفیف ده درصدی", name_en="10% off",
                        cost_points=500, percent_bp=1000, valid_days=30)
        costly = Reward(kind="coupon", name_fa="تخفیف بزرگ", name_en="Big discount",
                        cost_points=5000, amount=1_000_000, valid_days=30)
        db.session.add_all([reward, costly])
        db.session.commit()
        reward_id, costly_id = reward.id, costly.id
    _earn(app, member_id, 800)
    portal_sign_in(app, client)
    page = client.get("/portal/club/rewards")
    assert f'data-reward="{reward_id}"' in page.text
    token = csrf_from(page)
    refused = client.post(f"/portal/club/rewards/{costly_id}/redeem",
                          data={"csrf_token": token}, follow_redirects=True)
    assert "alert-danger" in refused.text
    done = client.post(f"/portal/club/rewards/{reward_id}/redeem", data={"csrf_token": token},
                       follow_redirects=True)
    assert done.status_code == 200
    with app.app_context():
        from modules.loyalty.models.members import Member

        assert db.session.get(Member, member_id).balance == 300
        redemptions = db.session.scalars(select(Redemption)).all()
        assert [(r.reward_id, r.channel, r.points) for r in redemptions] == [
            (reward_id, "portal", 500)]
        assert db.session.scalars(select(Entry).where(Entry.kind == "redeem")).one().points == -500
    assert "data-coupons" in client.get("/portal/club/rewards").text


def test_club_pages_need_the_portal_sign_in(app, client):
    response = client.get("/portal/club/")
    assert response.status_code == 302 and "/portal/sign-in" in response.headers["Location"]
