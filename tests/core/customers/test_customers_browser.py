"""In a real browser (fa): add a customer with a Jalali birthday, find it, open its 360 page."""

import pytest

from tests.browser import assert_clean, shot, sign_in


@pytest.mark.e2e
def test_create_find_and_open_a_customer_in_persian(browser_page, live_server, make_user):
    make_user(name="مدیر")
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/customers/"))
    assert page.locator("[data-empty-state]").count() == 1
    page.click("a[href='/customers/new']")
    page.fill("input[name=first_name]", "علی")
    page.fill("input[name=last_name]", "كريمي")  # Arabic kaf and yeh, as some keyboards type
    page.fill("textarea[name=mobiles]", "۰۹۱۲ ۳۴۵ ۶۷۸۹")
    page.fill("input[name=birthday]", "۱۳۷۰/۰۵/۱۲")
    page.keyboard.press("Escape")
    shot(page, "customers-new-fa")
    page.click("form.crm-customer-form button[type=submit]")
    page.wait_for_selector("[data-profile]")
    assert page.locator("[data-birthday]").inner_text().strip() == "۱۳۷۰/۰۵/۱۲"
    assert "۰۹۱۲ ۳۴۵ ۶۷۸۹" in page.locator("[data-contacts]").inner_text()
    assert page.locator("[data-entry=audit]").count() >= 1

    page.goto(live_server("/customers/"))
    page.fill("input[type=search]", "علی کریمی")  # Persian letters find the Arabic spelling
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers/?q=*")
    rows = page.locator("tr[data-customer]")
    assert rows.count() == 1
    rows.first.locator("a").first.click()
    page.wait_for_selector("[data-profile]")
    assert page.locator("h1").inner_text().strip() == "علی كريمي"
    shot(page, "customers-360-fa")
    assert_clean(page)
