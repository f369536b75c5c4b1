"""Club coupons on sales quotes: the exact discount, refusals with their reasons, release,
gift cards spent in parts, and what the quote page and its PDF show."""

from datetime import timedelta

import pytest
from flask_babel import force_locale

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.loyalty.club_helpers import make_member
from tests.modules.loyalty.reward_helpers import (
    customer_of,
    give_points,
    make_reward,
    redeem,
)
from tests.modules.sales.document_helpers import make_product, make_quote

PRICE = 1_200_000


def _coupon(app, member_id, **reward_fields) -> str:
    give_points(app, member_id, 100)
    return redeem(app, member_id, make_reward(app, **reward_fields))[1]


def _quote(quote_id):
    from modules.sales.models.documents import Quote

    return db.session.get(Quote, quote_id, populate_existing=True)


def _make_quote(app, customer_id, quantity=1, product=None) -> int:
    product = product or make_product(app, code=f"P{customer_id}{quantity}", price=PRICE)
    return make_quote(app, customer_id, [{"product_id": product, "quantity": quantity}])


def test_check_coupon_gives_the_exact_discount_or_the_reason(app):
    from modules.loyalty import services
    from modules.loyalty.models.rewards import Coupon

    member_id, other_id = make_member(app), make_member(app)
    owner, stranger = customer_of(app, member_id), customer_of(app, other_id)
    capped = _coupon(app, member_id, percent_bp=1250, max_discount=100_000,
                     min_purchase=500_000)
    fixed = _coupon(app, member_id, percent_bp=0, amount=75_000)
    with app.test_request_context(), force_locale("en"):
        assert services.check_coupon(capped, owner, 600_000) == (
            75_000, f"Coupon {capped} takes 75,000 Rial off.")  # 12.5% of 600,000
        assert services.check_coupon(capped, owner, 2_000_000)[0] == 100_000  # the cap
        # typed in Persian digits, lower case, without dashes
        typed = capped.lower().replace("-", " ")
        assert services.check_coupon(typed, owner, 600_000)[0] == 75_000
        assert services.check_coupon(fixed, owner, 50_000)[0] == 50_000  # never above it
        assert services.check_coupon(capped, owner, 499_999) == (
            0, f"Coupon {capped} needs a purchase of at least 500,000 Rial; this one is "
               "499,999 Rial.")
        assert services.check_coupon(capped, stranger, 600_000) == (
            0, f"Coupon {capped} belongs to another customer; only its owner can use it.")
        assert services.check_coupon("PV-AAAA-BBBB", owner, 600_000) == (
            0, "There is no coupon with the code PV-AAAA-BBBB.")
        coupon = db.session.query(Coupon).filter_by(code=fixed).one()
        coupon.valid_until = coupon.created_at.date() - timedelta(days=1)
        db.session.commit()
        discount, message = services.check_coupon(fixed, owner, 600_000)
        assert discount == 0 and message.startswith(f"Coupon {fixed} expired on ")
        assert services.use_coupon(capped, owner, "sales.quote:7", 600_000) == 75_000
        db.session.commit()
        discount, message = services.check_coupon(capped, owner, 600_000)
        assert discount == 0 and message.startswith(f"Coupon {capped} was already used on ")
        with pytest.raises(services.CouponError, match="already used"):
            services.use_coupon(capped, owner, "sales.quote:8", 600_000)
        assert services.coupon_on("sales.quote:7") == (capped, 75_000)
        assert services.release_coupon(capped, "sales.quote:7") == 75_000
        assert services.release_coupon(capped, "sales.quote:7") == 0  # once
        db.session.commit()
        assert services.coupon_on("sales.quote:7") is None
        assert services.check_coupon(capped, owner, 600_000)[0] == 75_000  # usable again


def test_a_gift_card_is_spent_in_parts_and_keeps_the_rest(app):
    from modules.loyalty import services
    from modules.loyalty.models.rewards import Coupon

    member_id = make_member(app)
    owner = customer_of(app, member_id)
    card = _coupon(app, member_id, kind="gift_card", percent_bp=0, amount=1_000_000)
    with app.test_request_context(), force_locale("en"):
        assert services.check_coupon(card, owner, 600_000) == (
            600_000, f"Gift card {card} pays 600,000 Rial; 400,000 Rial stays on the card.")
        assert services.use_coupon(card, owner, "sales.quote:1", 600_000) == 600_000
        assert services.use_coupon(card, owner, "sales.quote:2", 900_000) == 400_000
        db.session.commit()
        coupon = db.session.query(Coupon).filter_by(code=card).one()
        assert (coupon.balance, coupon.status) == (0, "used")
        assert services.check_coupon(card, owner, 100)[1] == f"Gift card {card} has been spent."
        assert services.release_coupon(card, "sales.quote:1") == 600_000
        db.session.commit()
        db.session.refresh(coupon)
        assert (coupon.balance, coupon.status) == (600_000, "issued")


def _apply(client, quote_id, code):
    page = client.get(f"/sales/quotes/{quote_id}")
    return client.post(f"/sales/quotes/{quote_id}/coupon",
                       data={"csrf_token": csrf_from(page), "code": code},
                       follow_redirects=True)


@pytest.fixture
def staff(app, make_user, login):
    make_user(seats=["sales", "loyalty"], locale="en")
    login()


def test_a_quote_takes_the_coupon_once_and_gives_it_back(app, client, staff):
    member_id, other_id = make_member(app), make_member(app)
    owner = customer_of(app, member_id)
    code = _coupon(app, member_id)  # 10%
    quote_id = _make_quote(app, owner)
    second_id = _make_quote(app, owner, quantity=2)
    strangers_quote = _make_quote(app, customer_of(app, other_id))

    page = _apply(client, quote_id, code)
    assert b"Coupon applied: 120,000 Rial off the quote." in page.data
    assert f'data-quote-coupon="{code}"'.encode() in page.data
    with app.app_context():
        version = _quote(quote_id).current
        assert (version.gross, version.document_discount, version.taxable) == (
            PRICE, 120_000, 1_080_000)
        assert version.total == 1_080_000 + version.vat
        assert sum(line.document_discount for line in version.lines) == 120_000
        from modules.sales.pdf import quote_html

        assert code in quote_html(_quote(quote_id), language="en")

    refused = _apply(client, second_id, code)
    assert b"was already used on" in refused.data
    assert b"Coupon %s belongs to another customer" % code.encode() in _apply(
        client, strangers_quote, code).data
    with app.app_context():
        assert _quote(second_id).current.document_discount == 0
        assert _quote(strangers_quote).current.document_discount == 0

    page = client.get(f"/sales/quotes/{quote_id}")
    client.post(f"/sales/quotes/{quote_id}/coupon/remove", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        assert _quote(quote_id).current.document_discount == 0
    assert b"Coupon applied: 240,000 Rial" in _apply(client, second_id, code).data

    # cancelling the quote gives the coupon back
    page = client.get(f"/sales/quotes/{second_id}")
    client.post(f"/sales/quotes/{second_id}/cancel", data={"csrf_token": csrf_from(page)})
    assert b"Coupon applied: 120,000 Rial" in _apply(client, quote_id, code).data


def test_a_rejected_quote_releases_its_coupon_and_an_edit_recomputes_it(app, client, staff):
    from modules.sales import quotes

    member_id = make_member(app)
    owner = customer_of(app, member_id)
    code = _coupon(app, member_id)
    product = make_product(app, code="LAP", price=PRICE)
    quote_id = _make_quote(app, owner, product=product)
    _apply(client, quote_id, code)

    edit = client.get(f"/sales/quotes/{quote_id}/edit")
    assert b"data-quote-form-coupon" in edit.data
    form = {"csrf_token": csrf_from(edit), "customer_id": owner, "action": "save",
            "lines-0-product_id": product, "lines-0-quantity": "3", "lines-0-description": "",
            "lines-0-unit": "", "lines-0-discount_percent": "", "discount": "10000"}
    response = client.post(f"/sales/quotes/{quote_id}/edit", data=form)
    assert response.status_code == 302, response.data.decode()[-3000:]
    with app.app_context():
        version = _quote(quote_id).current
        # 3 × 1,200,000 = 3,600,000; 10,000 typed; 10% of the remaining 3,590,000
        assert (version.gross, version.document_discount) == (3_600_000, 10_000 + 359_000)

    with app.test_request_context("/", method="POST"):
        quote = _quote(quote_id)
        quote.status = "sent"  # as if emailed
        quotes.answer(quote, accept=False)
        db.session.commit()
        assert _quote(quote_id).current.document_discount == 10_000
        from modules.loyalty import services

        assert services.check_coupon(code, owner, 1_000_000)[0] == 100_000


def test_coupon_and_redemption_lists_filter_by_status_code_and_jalali_period(app, client, staff):
    import jdatetime

    from modules.loyalty import services
    from modules.loyalty.ledger import today

    member_id = make_member(app)
    owner = customer_of(app, member_id)
    used, fresh = _coupon(app, member_id), _coupon(app, member_id)
    with app.test_request_context("/", method="POST"):
        services.use_coupon(used, owner, "sales.quote:3", 1_000_000)
        db.session.commit()
    listing = client.get("/loyalty/coupons").get_data(as_text=True)
    assert f'data-coupon="{used}" data-state="used"' in listing
    assert f'data-coupon="{fresh}" data-state="issued"' in listing
    only_used = client.get("/loyalty/coupons?state=used").get_data(as_text=True)
    assert used in only_used and fresh not in only_used
    # searching by the code as a person types it: lower case, no dashes
    found = client.get("/loyalty/coupons?q=" + fresh.lower().replace("-", "")).get_data(
        as_text=True)
    assert fresh in found and used not in found

    with app.app_context():
        day = today()
    jalali = lambda d: jdatetime.date.fromgregorian(date=d).strftime("%Y/%m/%d")  # noqa: E731
    this_day = client.get(f"/loyalty/redemptions?from={jalali(day)}&to={jalali(day)}")
    assert this_day.get_data(as_text=True).count("data-redemption=") == 2
    yesterday = jalali(day - timedelta(days=1))
    before = client.get(f"/loyalty/redemptions?from={yesterday}&to={yesterday}")
    assert "data-redemption=" not in before.get_data(as_text=True)
    assert b"No redemption matches" in before.data
    by_channel = client.get("/loyalty/redemptions?channel=portal")
    assert "data-redemption=" not in by_channel.get_data(as_text=True)


def test_the_quote_page_offers_the_members_tier_discount(app, client, staff):
    from tests.modules.loyalty.club_helpers import member
    from tests.modules.loyalty.reward_helpers import make_tier

    gold = make_tier(app, "gold", rank=2, discount_bp=500, min_points=10**9)
    member_id = make_member(app)
    with app.app_context():
        member(member_id).tier_id = gold
        db.session.commit()
    quote_id = _make_quote(app, customer_of(app, member_id))
    page = client.get(f"/sales/quotes/{quote_id}").get_data(as_text=True)
    assert ("Club tier Gold: 5% off, 60,000 Rial on this quote. To give it, add it to the "
            "quote's discount.") in page
    plain = _make_quote(app, customer_of(app, make_member(app)), quantity=2)
    assert "data-tier-offer" not in client.get(f"/sales/quotes/{plain}").get_data(as_text=True)
