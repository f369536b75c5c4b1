"""The API docs page in real Chromium: Swagger UI renders from local files under the CSP."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser import _WATCH_CSP, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.e2e


def _look_at_docs(base_url: str) -> dict:
    """Open the docs page; runs in its own thread so it never meets another sync Playwright."""
    from playwright.sync_api import sync_playwright

    seen = {"outside": [], "problems": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                             headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.add_init_script(_WATCH_CSP)
            page.on("request", lambda req: seen["outside"].append(req.url)
                    if not req.url.startswith((base_url, "data:")) else None)
            page.on("console", lambda msg: seen["problems"].append(f"{msg.type}: {msg.text}")
                    if msg.type in ("error", "warning") else None)
            page.on("pageerror", lambda exc: seen["problems"].append(f"uncaught: {exc}"))
            page.goto(base_url + "/api/v1/docs")
            page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/me']")
            seen["authorize"] = page.locator(".btn.authorize").count()
            seen["title"] = page.locator("#swagger-ui .title").first.inner_text()
            seen["csp"] = page.evaluate("window.__crmCsp || []")
        finally:
            browser.close()
    return seen


def test_docs_render_locally_without_csp_violations(chromium_required, live_server):
    with ThreadPoolExecutor(max_workers=1) as pool:
        seen = pool.submit(_look_at_docs, live_server.url).result(timeout=120)
    assert seen["title"].startswith("Peyvand CRM API")
    assert seen["authorize"] == 1  # the bearer scheme is offered
    assert seen["outside"] == []
    assert seen["csp"] == [] and seen["problems"] == []
