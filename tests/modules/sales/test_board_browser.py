"""In a real browser (fa): drag a deal across stages on the kanban board; it stays there.
"Show more" appends a column's next cards, which drag like the first ones."""

import pytest

from tests.browser import assert_clean, htmx_settled, shot, sign_in
from tests.modules.sales.deal_helpers import deal_row, make_customer, make_deal, seed_pipeline


@pytest.mark.e2e
def test_drag_a_deal_to_another_stage_in_persian(app, browser_page, live_server, make_user):
    make_user(name="مدیر فروش", seats=["sales"], locale="fa")
    ids = seed_pipeline(app)
    lead, _first_call, proposal, _negotiation = ids["stages"]
    customer = make_customer(app, "admin@example.ir", last_name="شرکت آرمان")
    dragged = make_deal(app, "admin@example.ir", customer, lead, title="تجهیز دفتر مرکزی",
                        value=2_500_000)
    make_deal(app, "admin@example.ir", customer, lead, title="خرید تونر", value=500_000)

    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/sales/board"))
    assert page.inner_text(f"#stage-{lead}-count") == "۲"
    assert page.inner_text(f"#stage-{proposal}-count") == "۰"
    assert page.locator(f"[data-stage='{lead}'] [data-deal]").count() == 2
    shot(page, "sales-board-before-fa")

    page.drag_and_drop(f"[data-deal='{dragged}']",
                       f"[data-stage='{proposal}'] [data-sortable-list]")
    page.wait_for_function(f"() => document.querySelector('#stage-{proposal}-count')"
                           ".textContent === '۱'")
    assert page.inner_text(f"#stage-{lead}-count") == "۱"
    assert page.inner_text(f"#stage-{proposal}-total") == "۲٬۵۰۰٬۰۰۰ ریال"
    assert deal_row(app, dragged)["stage_id"] == proposal

    page.reload()
    in_proposal = page.locator(f"[data-stage='{proposal}'] [data-deal]")
    assert in_proposal.count() == 1
    assert "تجهیز دفتر مرکزی" in in_proposal.first.inner_text()
    assert page.locator(f"[data-stage='{lead}'] [data-deal]").count() == 1
    assert page.inner_text(f"#stage-{proposal}-weighted") == "۱٬۲۵۰٬۰۰۰ ریال"

    page.click(f"[data-deal='{dragged}'] a")
    page.wait_for_selector("[data-history]")
    assert page.inner_text("[data-deal-stage]").startswith("ارائه")
    assert page.locator("[data-history-item=stage]").count() == 1
    shot(page, "sales-board-after-fa")
    assert_clean(page)


@pytest.mark.e2e
def test_show_more_appends_cards_that_can_be_dragged_in_persian(app, browser_page,
                                                                live_server, make_user):
    make_user(name="مدیر فروش", seats=["sales"], locale="fa")
    ids = seed_pipeline(app)
    lead, _first_call, proposal, _negotiation = ids["stages"]
    customer = make_customer(app, "admin@example.ir", last_name="شرکت آرمان")
    deals = [make_deal(app, "admin@example.ir", customer, lead, title=f"معامله {n}",
                       value=1_000_000 * (n + 1)) for n in range(25)]

    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/sales/board"))
    cards = page.locator(f"#stage-{lead}-cards [data-deal]")
    assert cards.count() == 20
    button = page.locator(f"#stage-{lead}-more [data-show-more]")
    assert "۵" in button.inner_text()  # five left, in Persian digits
    assert "۵" in page.inner_text(f"#stage-{lead}-more [data-more]")

    button.click()
    htmx_settled(page)
    assert cards.count() == 25
    assert page.locator(f"#stage-{lead}-more").count() == 0  # nothing left to show
    assert page.get_attribute(f"#stage-{lead}-cards > :last-child", "data-deal") == str(
        deals[0])  # the smallest deal, last
    shot(page, "sales-board-show-more-fa")

    page.drag_and_drop(f"[data-deal='{deals[0]}']",
                       f"[data-stage='{proposal}'] [data-sortable-list]")
    page.wait_for_function(f"() => document.querySelector('#stage-{proposal}-count')"
                           ".textContent === '۱'")
    assert deal_row(app, deals[0])["stage_id"] == proposal
    assert_clean(page)


@pytest.mark.e2e
def test_show_more_skips_a_card_already_dragged_into_the_column(app, browser_page,
                                                                live_server, make_user):
    make_user(name="مدیر فروش", seats=["sales"], locale="fa")
    ids = seed_pipeline(app)
    lead, _first_call, proposal, _negotiation = ids["stages"]
    customer = make_customer(app, "admin@example.ir", last_name="شرکت آرمان")
    small = make_deal(app, "admin@example.ir", customer, lead, title="کوچک", value=500_000)
    for n in range(25):
        make_deal(app, "admin@example.ir", customer, proposal, title=f"پیشنهاد {n}",
                  value=1_000_000 * (n + 1))

    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/sales/board"))
    column = page.locator(f"#stage-{proposal}-cards [data-deal]")
    assert column.count() == 20
    # the smallest deal moves into a column whose last five (smaller) cards are not loaded
    page.drag_and_drop(f"[data-deal='{small}']",
                       f"[data-stage='{proposal}'] [data-sortable-list]",
                       target_position={"x": 30, "y": 12})  # the column's top: it is long
    page.wait_for_function(f"() => document.querySelector('#stage-{proposal}-count')"
                           ".textContent === '۲۶'")
    assert column.count() == 21
    page.click(f"#stage-{proposal}-more [data-show-more]")
    htmx_settled(page)
    shown = [column.nth(i).get_attribute("data-deal") for i in range(column.count())]
    assert len(shown) == 26 and len(set(shown)) == 26  # the dragged card once, not twice
    assert_clean(page)
