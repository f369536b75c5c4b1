"""Analytics fixtures: the CLI group registered on the test app, the CDNOW sample's path."""

from pathlib import Path

import pytest

CDNOW = Path(__file__).resolve().parents[2] / "data" / "cdnow_sample.csv"


@pytest.fixture
def analytics_runner(app):
    """A CLI runner with ``crm analytics`` registered (create_app may not do it yet)."""
    from core import analytics

    analytics.init_app(app)
    return app.test_cli_runner()
