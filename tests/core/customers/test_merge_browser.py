"""In a real browser (fa): find a duplicate pair, compare it side by side, pick a value, merge."""

from datetime import date

import pytest

from tests.browser import assert_clean, shot, sign_in


@pytest.mark.e2e
def test_merge_two_records_of_one_customer_in_persian(app, browser_page, live_server, make_user,
                                                      make_customer):
    make_user(name="مدیر")
    first = make_customer("admin@example.ir", first_name="مریم", last_name="حسینی",
                          mobiles=["09121234567"], birthday=date(1990, 3, 21))
    second = make_customer("admin@example.ir", first_name="مريم", last_name="حسيني",
                           mobiles=["۰۹۱۲ ۱۲۳ ۴۵۶۷"], emails=["maryam@example.ir"],
                           birthday=date(1990, 3, 22))
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/customers/duplicates"))
    assert page.locator("tr[data-pair]").count() == 1
    assert page.locator("[data-reason=mobile]").count() == 1
    shot(page, "customers-duplicates-fa")
    page.click("a[data-merge-pair]")
    page.wait_for_selector("[data-merge-table]")
    page.wait_for_load_state("load")  # peyvand.js (deferred) asks before merging
    assert page.locator(f"th[data-side='{first}']").count() == 1
    assert page.locator(f"th[data-side='{second}']").count() == 1
    birthday = page.locator("tr[data-field=birthday]")
    assert "۱۳۶۹/۰۱/۰۱" in birthday.inner_text() and "۱۳۶۹/۰۱/۰۲" in birthday.inner_text()
    birthday.locator(f"input[value='{second}']").check()
    shot(page, "customers-merge-fa")
    page.click("form[data-merge-form] button[type=submit]")
    page.click("#crm-confirm [data-confirm-ok]")
    page.wait_for_url(f"**/customers/{first}")
    page.wait_for_selector("[data-profile]")
    assert page.locator("[data-birthday]").inner_text().strip() == "۱۳۶۹/۰۱/۰۲"
    assert "maryam@example.ir" in page.locator("[data-contacts]").inner_text()
    assert page.locator("[data-entry=merge]").count() == 1
    page.goto(live_server(f"/customers/{second}"))
    page.wait_for_url(f"**/customers/{first}")
    assert_clean(page)
