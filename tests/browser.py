"""Browser fixtures: the app on a real HTTP server and Debian's Chromium driven by Playwright.

Loaded once for the whole suite by ``pytest_plugins`` in tests/conftest.py, so every folder
shares one Playwright and one Chromium per process; import the helpers from here::

    from tests.browser import assert_clean, shot, sign_in

``live_server`` serves the ``app`` fixture (fresh database per test) with werkzeug in a thread
on 127.0.0.1 and a free port. ``browser_page`` is a new Chromium page whose console errors,
uncaught exceptions, CSP violations and failed requests are collected in ``page.crm_problems``;
call ``assert_clean(page)`` at the end of a test. ``sign_in(page, live_server, email)`` goes
through the real login form.
"""

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

CHROMIUM = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
PASSWORD = "correct horse battery"
SCREENSHOTS = os.environ.get("CRM_UI_SCREENSHOTS")  # a folder: keep screenshots to look at

# Collected in the page before any of its own scripts run (Playwright bypasses the CSP here).
_WATCH_CSP = """
window.__crmCsp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__crmCsp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
                       + (e.sourceFile || "") + ":" + (e.lineNumber || ""));
});
"""


@dataclass
class LiveServer:
    app: Flask
    url: str

    def __call__(self, path: str = "/") -> str:
        """The absolute URL of ``path`` on this server."""
        return self.url + path


@pytest.fixture
def live_server(app):
    """The test app served over real HTTP on 127.0.0.1 (threaded werkzeug, free port)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def chromium_required():
    """Skip loudly when Debian's Chromium or Playwright is not there."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium) "
                    "or CRM_CHROMIUM=/path/to/chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install playwright)")


@pytest.fixture(scope="session")
def browser(chromium_required):
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_page(browser, live_server):
    """A fresh page (own cookies) that records console errors and CSP violations."""
    context = browser.new_context(viewport={"width": 1280, "height": 860},
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.crm_problems = problems = []
    page.add_init_script(_WATCH_CSP)
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    # ERR_ABORTED is the browser dropping a request because the page moved on (a favicon
    # during navigation): not a broken asset.
    page.on("requestfailed", lambda req: problems.append(
        f"request failed: {req.url} {req.failure}") if "ERR_ABORTED" not in (req.failure or "")
        else None)
    page.on("response", lambda res: problems.append(f"HTTP {res.status}: {res.url}")
            if res.status >= 400 and "/static/" in res.url else None)
    yield page
    context.close()


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__crmCsp || []")


def assert_clean(page) -> None:
    """No console errors or warnings, no uncaught errors, no CSP violations, no broken assets."""
    problems = list(page.crm_problems) + [f"CSP: {v}" for v in csp_violations(page)]
    assert not problems, "\n".join(problems)


def sign_in(page, live_server: LiveServer, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait for the dashboard."""
    page.goto(live_server("/auth/login"))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(live_server("/"))


def shot(page, name: str) -> None:
    """Save a full-page screenshot as CRM_UI_SCREENSHOTS/<name>.png when that is set."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def htmx_settled(page, timeout: float = 30_000) -> None:
    """Wait until htmx has no request in flight and has finished swapping and settling: new
    content gets its htmx handlers only when settled, so an event fired before is lost."""
    page.wait_for_function(
        "() => window.htmx && !document.querySelector("
        "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')", timeout=timeout)
