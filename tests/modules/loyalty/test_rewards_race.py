"""Races with real commits on separate connections: the last unit of a reward goes to one
member; one coupon code goes to one quote (SQLite and PostgreSQL)."""

import threading

import pytest

from config import TestConfig
from core import create_app
from core.extensions import db
from tests.conftest import race_database
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member
from tests.modules.loyalty.reward_helpers import customer_of, give_points, make_reward, redeem
from tests.modules.sales.document_helpers import make_product, make_quote

CONTENDERS = 6


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def race_app(request, tmp_path):
    """An app on a file SQLite database, or on a fresh PostgreSQL schema."""
    uri, options = race_database(request, tmp_path)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=uri, SQLALCHEMY_ENGINE_OPTIONS=options,
                     CRM_UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        db.create_all()
        from core.bootstrap import ensure_deployment

        ensure_deployment()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _race(app, work, args) -> dict:
    """Each thread: its own request (a write: BEGIN IMMEDIATE on SQLite) and connection;
    all start at one barrier. Returns each argument's outcome: "won" or the error."""
    barrier = threading.Barrier(len(args))
    outcomes = {}

    def contender(arg):
        with app.test_request_context("/", method="POST"):
            try:
                barrier.wait()
                work(arg)
                db.session.commit()
                outcomes[arg] = "won"
            except Exception as exc:  # noqa: BLE001 - the outcome is the message
                db.session.rollback()
                outcomes[arg] = f"{type(exc).__name__}: {exc}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=contender, args=(arg,)) for arg in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_the_last_unit_goes_to_one_member(race_app):
    from flask_babel import force_locale

    from modules.loyalty.models.rewards import Redemption, Reward
    from modules.loyalty.rewards import redeem_reward

    app = race_app
    reward_id = make_reward(app, kind="gift_card", percent_bp=0, amount=500_000, stock=1,
                            cost_points=100, name_en="Card")
    members = [make_member(app) for _i in range(CONTENDERS)]
    for member_id in members:
        give_points(app, member_id, 100)

    def take(member_id):
        with force_locale("en"):
            redeem_reward(member(member_id), db.session.get(Reward, reward_id), channel="api")

    outcomes = _race(app, take, members)
    assert list(outcomes.values()).count("won") == 1, outcomes
    assert {v for v in outcomes.values() if v != "won"} == {
        "RewardError: Card is out of stock."}, outcomes
    with app.app_context():
        assert db.session.get(Reward, reward_id).stock == 0
        assert db.session.query(Redemption).count() == 1
        winner = next(m for m, v in outcomes.items() if v == "won")
        for member_id in members:
            assert member(member_id).balance == (0 if member_id == winner else 100)
            assert_ledger_ok(member_id)


def test_one_coupon_code_goes_to_one_quote(race_app):
    from flask_babel import force_locale

    from core.admin.services import create_or_update_user
    from modules.sales import quote_coupons
    from modules.sales.models.documents import Quote

    app = race_app
    with app.app_context():
        create_or_update_user(email="admin@example.ir", password=None, role_name="admin")
    member_id = make_member(app)
    give_points(app, member_id, 100)
    code = redeem(app, member_id, make_reward(app))[1]
    product = make_product(app, price=1_000_000)
    quotes = [make_quote(app, customer_of(app, member_id), [{"product_id": product,
                                                             "quantity": 1}])
              for _i in range(CONTENDERS)]

    def take(quote_id):
        with force_locale("en"):
            quote_coupons.apply_coupon(db.session.get(Quote, quote_id), code)

    outcomes = _race(app, take, quotes)
    assert list(outcomes.values()).count("won") == 1, outcomes
    with app.app_context():
        discounts = {q: db.session.get(Quote, q).current.document_discount for q in quotes}
        winner = next(q for q, v in outcomes.items() if v == "won")
        assert discounts == {q: (100_000 if q == winner else 0) for q in quotes}
    for quote_id, outcome in outcomes.items():
        if quote_id != winner:
            assert "was already used on" in outcome or "was just used" in outcome, outcome
