"""In a real browser (fa): the admin shortens Thursday, loads the fixed holidays of 1404 and
adds an escalation rule; the pages are RTL, clean (no console or CSP problems)."""

from sqlalchemy import select

from core.extensions import db
from modules.service.models.sla import Calendar, EscalationRule, Holiday
from tests.browser import assert_clean, shot, sign_in


def test_sla_settings_in_persian(app, make_user, browser_page, live_server):
    make_user("admin@example.ir", role="admin", seats=["service"], locale="fa")
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/service/sla"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("[data-sla-calendars]").inner_text().count("۰۸:۰۰-۱۷:۰۰") == 5
    shot(page, "service-sla")

    page.click("[data-edit-calendar]")
    page.fill("input[name=day_3]", "۰۸:۰۰-۱۲:۳۰")
    shot(page, "service-sla-calendar")
    page.click("form[data-calendar-form] button[type=submit]")
    page.wait_for_url(live_server("/service/sla"))
    assert "۰۸:۰۰-۱۲:۳۰" in page.locator("[data-sla-calendars]").inner_text()

    page.click("[data-calendar-holidays]")
    page.fill("form[data-fixed-form] input[name=year]", "۱۴۰۴")
    page.click("form[data-fixed-form] button[type=submit]")
    page.wait_for_selector("[data-holiday='2025-03-21']")
    assert page.locator("[data-holiday]").count() == 10
    shot(page, "service-sla-holidays")

    page.goto(live_server("/service/sla/policies/new"))
    shot(page, "service-sla-policy")
    page.goto(live_server("/service/sla/rules/new"))
    page.fill("input[name=name]", "خبر به مدیر")
    page.select_option("select[name=trigger]", "resolution_breach")
    page.select_option("select[name=action]", "notify")
    page.click("form[data-rule-form] button[type=submit]")
    page.wait_for_url(live_server("/service/sla"))
    assert "خبر به مدیر" in page.locator("[data-sla-rules]").inner_text()
    assert_clean(page)
    with app.app_context():
        calendar = db.session.scalar(select(Calendar))
        assert calendar.hours["3"] == [[480, 750]]
        assert len(db.session.scalars(select(Holiday)).all()) == 10
        assert db.session.scalar(select(EscalationRule.trigger)) == "resolution_breach"
