"""Layout in real Chromium: with every module in the menu, no page is wider than the window,
and in Persian the menu starts on the right."""

import pytest

from tests.browser import sign_in

pytestmark = pytest.mark.e2e

PAGES = ("/", "/service/tickets", "/marketing/campaigns", "/sales/board")
WIDTHS = (1200, 1280, 1440, 1600, 992, 390)


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - "
                         "document.documentElement.clientWidth")


@pytest.mark.parametrize("language", ["fa", "en"])
def test_no_page_is_wider_than_the_window(browser_page, live_server, make_user, language):
    make_user(email="admin@example.ir", name="مدیر سامانهٔ پیوند", locale=language)
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    assert page.get_attribute("html", "dir") == ("rtl" if language == "fa" else "ltr")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 860})
        for path in PAGES:
            page.goto(live_server(path))
            assert _overflow(page) <= 0, f"{path} at {width}px in {language} scrolls sideways"
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(live_server("/"))
    brand = page.locator(".crm-brand").bounding_box()
    menu = page.locator("[data-menu=modules]").bounding_box()
    if language == "fa":
        assert brand["x"] > menu["x"]  # brand and menu start from the right
    else:
        assert brand["x"] < menu["x"]
