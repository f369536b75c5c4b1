"""In a real browser (fa): build a segment from rules, watch the live count change as rows are
added and changed (htmx, no reload), save it and see its members."""

import pytest
from playwright.sync_api import expect

from core.extensions import db
from modules.marketing.models.segments import Segment
from tests.browser import assert_clean, htmx_settled, shot, sign_in
from tests.modules.marketing.test_segments import data  # noqa: F401 - fixture


def _count(page) -> str:
    return page.locator("[data-live-count]").inner_text()


@pytest.mark.e2e
def test_build_a_segment_with_a_live_count(app, browser_page, live_server, make_user,
                                           data):  # noqa: F811
    make_user(name="بازاریاب", seats=["marketing"], locale="fa")
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/marketing/segments"))
    page.click("[data-new-segment]")
    page.fill("input[name=name]", "تهرانی‌های اخیر")
    assert _count(page) == "۴"  # no rules yet: every (not anonymised) customer

    page.click("[data-action='add_rule:r']")
    page.wait_for_selector("[data-rule-row='r-0']", timeout=30_000)  # htmx, on a busy CI machine
    htmx_settled(page)  # the new row's handlers are bound only once htmx has settled
    page.fill("[data-rule-row='r-0'] input[name='value-r-0']", "تهران")
    expect(page.locator("[data-live-count]")).to_have_text("۲", timeout=30_000)  # htmx

    # a nested "any" group: bought in the last 30 days, or no purchases ever
    page.click("[data-action='add_group:r']")
    page.wait_for_selector("[data-rule-row='r-1-0']", timeout=30_000)  # htmx, on a busy CI machine
    htmx_settled(page)
    page.select_option("select[name='field-r-1-0']", "last_purchase")
    page.wait_for_selector("select[name='op-r-1-0'] option[value=never]", state="attached",
                           timeout=30_000)
    htmx_settled(page)
    page.fill("input[name='value-r-1-0']", "۳۰")
    expect(page.locator("[data-live-count]")).to_have_text("۱", timeout=30_000)  # htmx
    assert page.input_value("input[name='value-r-0']") == "تهران"  # kept across redraws
    shot(page, "marketing-segment-builder-fa")

    page.click("[data-segment-form] button[type=submit]")
    page.wait_for_selector("[data-member-table]")
    assert "Ali" in page.locator("[data-member-table]").inner_text()
    assert "Sara" not in page.locator("[data-member-table]").inner_text()
    assert_clean(page)
    with app.app_context():
        seg = db.session.execute(db.select(Segment)).scalar_one()
        assert seg.last_count == 1 and seg.rules["rules"][1]["match"] == "any"
