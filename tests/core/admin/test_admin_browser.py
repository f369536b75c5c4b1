"""Admin pages in a real browser (Debian Chromium): no CSP violations, seat refusal, 403."""

import pytest

from tests.browser import assert_clean, shot, sign_in

PAGES = ["/admin/", "/admin/users", "/admin/users/invite", "/admin/roles", "/admin/roles/new",
         "/admin/teams", "/admin/seats", "/admin/settings", "/admin/audit", "/account/security"]


@pytest.mark.e2e
@pytest.mark.parametrize("lang", ["fa", "en"])
def test_admin_pages_render_cleanly(browser_page, live_server, make_user, lang):
    make_user(locale=lang)
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    for path in PAGES:
        response = page.goto(live_server(path))
        assert response.status == 200, path
        assert page.get_attribute("html", "dir") == ("rtl" if lang == "fa" else "ltr")
        shot(page, f"admin{path.replace('/', '-').rstrip('-')}-{lang}")
    assert_clean(page)


@pytest.mark.e2e
def test_seat_over_the_limit_is_refused_in_the_browser(browser_page, live_server, make_user):
    make_user(seats=["sales"])
    make_user("a1@example.ir", role="agent", seats=["sales"])
    make_user("a2@example.ir", role="agent", seats=["sales"])
    fourth = make_user("a3@example.ir", role="agent")
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server(f"/admin/users/{fourth}"))
    page.check("input[name=modules][value=sales]")
    page.click(f"form[action='/admin/users/{fourth}/seats'] button[type=submit]")
    alert = page.locator(".alert-danger")
    assert "صندلی آزادی وجود ندارد" in alert.inner_text()
    assert "فروش" in alert.inner_text() and "۳" in alert.inner_text()
    assert not page.is_checked("input[name=modules][value=sales]")
    assert_clean(page)


@pytest.mark.e2e
def test_agent_is_refused_on_admin_pages(browser_page, live_server, make_user):
    make_user()
    make_user("agent@example.ir", role="agent")
    page = browser_page
    sign_in(page, live_server, "agent@example.ir")
    for path in PAGES[:-1]:
        assert page.goto(live_server(path)).status == 403, path
    assert page.locator("[data-error='403']").count() == 1
