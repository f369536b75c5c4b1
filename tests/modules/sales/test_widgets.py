"""The sales cards on the dashboard: "My month" and the leaderboard of this Jalali month,
for people with a sales seat only."""

import re

from core.extensions import db
from tests.core.test_translations import latin_in
from tests.modules.sales.deal_helpers import make_customer, make_deal, seed_pipeline
from tests.modules.sales.document_helpers import make_buyer, make_invoice, make_product
from tests.modules.sales.perf_helpers import closed_deal, make_team, total_of


def _widget(html, name):
    found = re.search(rf'<div data-sales-widget="{name}">.*?</div>\s*</div>', html, re.S)
    return found.group(0) if found else None


def _seed(app, make_user):
    from core.database import utcnow
    from core.money import format_money
    from modules.sales.performance import Period, set_target

    make_user(seats=["sales"], locale="fa")
    ids = make_team(app, make_user)
    stage = seed_pipeline(app)["stages"][0]
    customer = make_customer(app)
    make_deal(app, "ali@example.ir", customer, stage, value=8_000_000)  # open
    make_deal(app, "lead@example.ir", customer, stage, value=1_000_000)  # someone else's
    closed_deal(app, "ali@example.ir", customer, stage, 3_000_000, "won", utcnow(), 2)
    buyer = make_buyer(app)
    product = make_product(app, price=1_000_000)
    invoice = make_invoice(app, buyer, [{"product_id": product, "quantity": 4}],
                           email="ali@example.ir", post=True)
    small = make_invoice(app, buyer, [{"product_id": product, "quantity": 1}],
                         email="lead@example.ir", post=True)
    with app.app_context():
        set_target(ids["ali@example.ir"], *Period.current().first, 20_000_000)
        db.session.commit()
    with app.test_request_context():
        return {"achieved": format_money(total_of(app, invoice), locale="fa"),
                "small": total_of(app, small), "ids": ids}


def test_my_month_and_the_leaderboard_on_the_dashboard(app, client, make_user, login):
    from core.money import format_money

    seeded = _seed(app, make_user)
    login("ali@example.ir")
    html = client.get("/").get_data(as_text=True)
    mine = _widget(html, "my-month")
    assert mine is not None
    with app.test_request_context():
        assert format_money(20_000_000, locale="fa") in mine  # target
        assert re.search(r"data-open-value>\s*" + re.escape(
            format_money(8_000_000, locale="fa")), mine)  # only Ali's open deal
    assert seeded["achieved"] in mine
    assert "<progress" in mine
    board = _widget(html, "leaderboard")
    # an agent sees only their own line
    assert re.findall(r'data-user="(\d+)"', board) == [str(seeded["ids"]["ali@example.ir"])]
    digits = [w for w in latin_in(html) if re.match(r"\d", w)]
    assert digits == []


def test_the_leaderboard_card_ranks_the_top_of_the_month(app, client, make_user, login):
    seeded = _seed(app, make_user)
    ids = seeded["ids"]
    login()  # the administrator sees everyone
    board = _widget(client.get("/").get_data(as_text=True), "leaderboard")
    ranked = re.findall(r'data-user="(\d+)"', board)
    assert ranked[:2] == [str(ids["ali@example.ir"]), str(ids["lead@example.ir"])]
    assert len(ranked) <= 5


def test_no_sales_cards_without_a_sales_seat(app, client, make_user, login):
    _seed(app, make_user)
    make_user("zahra@example.ir", role="agent", seats=[], locale="en")
    login("zahra@example.ir")
    html = client.get("/").get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert 'data-sales-widget' not in html
    assert "My month in sales" not in html and "Sales leaderboard" not in html  # no empty frame
