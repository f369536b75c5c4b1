"""The shell in real Chromium: direction, Vazirmatn actually rendering, no CSP violations."""

import pytest

from tests.browser import assert_clean, shot, sign_in

pytestmark = pytest.mark.e2e


def rendered_fonts(page, selector: str) -> set[str]:
    """The font families Chromium really used to draw the text of ``selector``."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    cdp.detach()
    return {font["familyName"] for font in fonts}


def check_typography(page, lang: str) -> None:
    direction = "rtl" if lang == "fa" else "ltr"
    assert page.get_attribute("html", "lang") == lang
    assert page.get_attribute("html", "dir") == direction
    assert page.evaluate("getComputedStyle(document.body).direction") == direction
    assert "Vazirmatn" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Vazirmatn" in page.evaluate(
        "getComputedStyle(document.querySelector('button, .btn')).fontFamily")
    faces = page.evaluate("""async () => {
        await document.fonts.ready;
        return [...document.fonts].filter(f => f.family.replace(/["']/g, '') === 'Vazirmatn')
                                  .map(f => f.status);
    }""")
    assert faces and set(faces) == {"loaded"}, faces
    assert page.evaluate("document.fonts.check('16px Vazirmatn')")
    assert page.evaluate("document.fonts.check('bold 16px Vazirmatn', 'سلام')")
    assert rendered_fonts(page, "h1") == {"Vazirmatn"}
    # Bootstrap's RTL build in fa, the LTR build in en
    sheets = page.evaluate("[...document.styleSheets].map(s => s.href || '')")
    rtl_css = any(s.endswith("bootstrap.rtl.min.css") for s in sheets)
    assert rtl_css == (lang == "fa"), sheets


@pytest.mark.parametrize("lang", ["fa", "en"])
def test_login_and_dashboard_render_in_vazirmatn_with_the_right_direction(
        browser_page, live_server, make_user, lang):
    page = browser_page
    make_user("shell@example.ir", name="مریم رضایی" if lang == "fa" else "Maryam Rezaei",
              locale=lang)
    page.goto(live_server("/auth/login"))
    if lang == "en":  # the deployment default is fa: switch on the login page itself
        page.click("button[data-language=en]")
        page.wait_for_selector("html[lang=en]")
    check_typography(page, lang)
    shot(page, f"login-{lang}")

    sign_in(page, live_server, "shell@example.ir")
    check_typography(page, lang)
    assert page.locator("[data-user-name]").is_visible()
    assert page.locator("[data-menu-entry='sales.index']").is_visible()
    nav = page.locator("nav.crm-navbar").bounding_box()
    brand = page.locator(".crm-brand").bounding_box()
    # the brand sits at the start of the line: right in RTL, left in LTR
    if lang == "fa":
        assert brand["x"] > nav["width"] / 2
    else:
        assert brand["x"] < nav["width"] / 2
    shot(page, f"dashboard-{lang}")
    # every menu entry fits on one line at a laptop width
    heights = page.eval_on_selector_all(".crm-navbar .nav-link",
                                        "links => links.map(link => link.offsetHeight)")
    assert max(heights) < 50, heights
    page.click("[data-user-name]")
    page.click("[data-sign-out]")
    page.wait_for_url(live_server("/auth/login"))
    assert_clean(page)


def test_error_page_is_styled_and_translated(browser_page, live_server, make_user):
    page = browser_page
    make_user("err@example.ir", locale="fa")
    sign_in(page, live_server, "err@example.ir")
    response = page.goto(live_server("/no-such-page"))
    assert response.status == 404
    assert page.locator("[data-error='404']").is_visible()
    assert page.locator(".crm-error-code").inner_text() == "۴۰۴"
    check_typography(page, "fa")
    shot(page, "error-404-fa")
    problems = [p for p in page.crm_problems if "404" not in p]  # the page itself is a 404
    assert not problems, problems
