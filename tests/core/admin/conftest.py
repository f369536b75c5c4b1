"""Browser fixtures for the admin pages, shared from the UI tests."""

from tests.core.ui.conftest import (  # noqa: F401 - fixtures
    browser,
    browser_page,
    chromium_required,
    live_server,
)
