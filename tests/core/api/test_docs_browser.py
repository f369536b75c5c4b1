"""The API docs page in real Chromium: Swagger UI renders from local files under the CSP."""

import pytest

from tests.core.ui.conftest import assert_clean

pytestmark = pytest.mark.e2e


def test_docs_render_locally_without_csp_violations(browser_page, live_server):
    page = browser_page
    outside = []
    page.on("request", lambda req: outside.append(req.url)
            if not req.url.startswith(live_server.url) and not req.url.startswith("data:")
            else None)
    page.goto(live_server("/api/v1/docs"))
    page.wait_for_selector(".opblock-summary-path[data-path='/api/v1/me']")
    assert page.locator(".btn.authorize").count() == 1  # the bearer scheme is offered
    assert page.locator("#swagger-ui .title").first.inner_text().startswith("Peyvand CRM API")
    assert outside == []
    assert_clean(page)
