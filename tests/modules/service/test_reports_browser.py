"""In the browser (fa): the service reports draw their monthly charts without errors, and the
filter form keeps the chosen months."""

from tests.browser import assert_clean, shot, sign_in
from tests.modules.service.test_reports import seed
from tests.modules.service.test_reports_page import _set_locale


def test_the_reports_in_persian_draw_their_charts(app, make_user, live_server, browser_page):
    page = browser_page
    seed(app, make_user)
    _set_locale(app, "admin@example.ir", "fa")
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/service/reports?from=1404-06&to=1404-07"))
    page.wait_for_function("document.querySelectorAll('canvas[data-chart]').length === 2"
                           " && [...document.querySelectorAll('canvas[data-chart]')]"
                           ".every(c => window.Chart && Chart.getChart(c))")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator('[data-summary="fcr"] [data-value]').inner_text() == "۳۳٪"
    page.select_option("#report-from", "1404-07")
    page.select_option("#report-to", "1404-07")
    page.click("[data-report-filters] button[type=submit]")
    page.wait_for_url("**from=1404-07**")
    assert page.locator('[data-report="months"] tbody tr').count() == 1
    assert page.locator('[data-summary="nps"] [data-value]').inner_text() == "-۳۳"
    shot(page, "service-reports-fa")
    assert_clean(page)
