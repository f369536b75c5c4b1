"""In a real browser (fa): the sales cards on the dashboard, the performance page and its
month selector, and setting a target in Persian digits."""

import pytest

from core.extensions import db
from tests.browser import assert_clean, shot, sign_in
from tests.modules.sales.deal_helpers import make_customer, make_deal, seed_pipeline
from tests.modules.sales.perf_helpers import closed_deal, make_team


@pytest.mark.e2e
def test_performance_pages_and_cards_in_persian(app, browser_page, live_server, make_user):
    from core.database import utcnow
    from modules.sales.models.targets import SalesTarget
    from modules.sales.performance import Period

    make_user(name="مدیر فروش", seats=["sales"], locale="fa")
    ids = make_team(app, make_user)
    stage = seed_pipeline(app)["stages"][0]
    customer = make_customer(app)
    make_deal(app, "admin@example.ir", customer, stage, value=4_000_000)
    closed_deal(app, "ali@example.ir", customer, stage, 12_000_000, "won", utcnow(), 6)
    closed_deal(app, "sara@example.ir", customer, stage, 2_000_000, "lost", utcnow(), 2)

    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    assert page.locator("[data-sales-widget='my-month']").count() == 1
    assert page.locator("[data-sales-widget='leaderboard'] [data-user]").count() >= 2
    assert_clean(page)
    shot(page, "sales-dashboard-cards-fa")

    page.goto(live_server("/sales/performance"))
    ali = page.locator(f"[data-performance-people] tr[data-user='{ids['ali@example.ir']}']")
    assert ali.locator("[data-won]").inner_text() == "۱"
    assert ali.locator("[data-cycle]").inner_text() == "۶٫۰"
    assert_clean(page)
    shot(page, "sales-performance-fa")
    page.click("[data-prev]")
    page.wait_for_url(lambda url: "month=" in url)
    assert page.locator("[data-performance-people] [data-won]").all_inner_texts() \
        and set(page.locator("[data-performance-people] [data-won]").all_inner_texts()) == {"۰"}

    page.goto(live_server("/sales/targets"))
    page.fill(f"#target-{ids['ali@example.ir']}", "۲۵٬۰۰۰٬۰۰۰")
    page.click("[data-targets-form] button.btn-primary")
    page.wait_for_load_state()
    assert_clean(page)
    shot(page, "sales-targets-fa")
    with app.app_context():
        year, month = Period.current().first
        target = db.session.query(SalesTarget).filter_by(
            user_id=ids["ali@example.ir"], year=year, month=month).one()
        assert target.amount == 25_000_000
