"""The customer 360 page shows the customer's value: RFM segment and quintiles, P(alive),
expected purchases and predicted value, priority, when computed; purchases summary; or an
empty state before the first recompute."""

import re
from datetime import UTC, datetime

import pytest

from core.analytics.models import CustomerScore
from core.analytics.services import record_purchase
from core.database import set_setting
from core.extensions import db


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


def _card(html: str) -> str:
    start = html.index("data-scores>")
    return html[start:html.index("</div></div>", start)]


def _text(card: str, attribute: str) -> str:
    return re.search(attribute + r'[^>]*>([^<]*)<', card).group(1).strip()


def test_scores_and_purchases_on_the_360_page(app, admin, make_customer):
    customer_id = make_customer("admin@example.ir", first_name="سارا")
    with app.app_context():
        set_setting("display.unit", "toman")
        for day, amount in ((datetime(2024, 3, 1, 9, tzinfo=UTC), 12_000_000),
                            (datetime(2024, 4, 3, 9, tzinfo=UTC), 3_000_000)):
            record_purchase(customer_id, amount, day, "pos", key=f"k{amount}")
        db.session.add(CustomerScore(
            customer_id=customer_id, recency_days=12, frequency=2, monetary=15_000_000,
            r_score=5, f_score=4, m_score=3, segment="champions", p_alive=0.873,
            expected_purchases_90d=1.256, predicted_value_90d=4_567_890.4, priority=87.25,
            computed_at=datetime(2024, 4, 3, 20, 0, tzinfo=UTC)))
        db.session.commit()
    html = admin.get(f"/customers/{customer_id}").get_data(as_text=True)
    card = _card(html)
    assert 'data-segment="champions">قهرمانان' in card
    assert "۵ / ۴ / ۳" in card
    assert _text(card, "data-p-alive") == "۸۷٪"
    assert _text(card, "data-expected") == "۱٫۲۶"
    assert _text(card, "data-predicted-value") == "۴۵۶٬۷۸۹ تومان"
    assert _text(card, "data-priority") == "۸۷٫۳"
    assert "۱۴۰۳/۰۱/۱۵ ۲۳:۳۰" in _text(card, "data-computed-at")  # Tehran time
    assert _text(card, "data-purchase-count") == "۲"
    assert _text(card, "data-purchase-total") == "۱٬۵۰۰٬۰۰۰ تومان"
    assert _text(card, "data-last-purchase") == "۱۴۰۳/۰۱/۱۵"
    assert "data-scores-empty" not in card
    assert not re.search(r"[0-9]", re.sub(r"<[^>]*>", "", card))  # Persian digits only


def test_empty_state_before_the_first_recompute(app, admin, make_customer):
    customer_id = make_customer("admin@example.ir", first_name="سارا")
    card = _card(admin.get(f"/customers/{customer_id}").get_data(as_text=True))
    assert "data-scores-empty" in card and "data-segment=" not in card
    assert 'href="/analytics/"' in card  # where an admin recomputes
    assert "data-purchases-empty" in card


def test_the_scores_card_is_in_english_too(app, client, make_user, login, make_customer):
    make_user("en@example.ir", locale="en")
    login("en@example.ir")
    customer_id = make_customer("en@example.ir", first_name="Sara")
    with app.app_context():
        db.session.add(CustomerScore(
            customer_id=customer_id, recency_days=400, frequency=1, monetary=100,
            r_score=1, f_score=1, m_score=2, segment="lost", p_alive=None,
            expected_purchases_90d=None, predicted_value_90d=None, priority=None,
            computed_at=datetime(2024, 4, 3, 20, 0, tzinfo=UTC)))
        db.session.commit()
    card = _card(client.get(f"/customers/{customer_id}").get_data(as_text=True))
    assert 'data-segment="lost">Lost' in card
    assert _text(card, "data-p-alive") == "—" and _text(card, "data-priority") == "—"
    assert "1403/01/15" in card
