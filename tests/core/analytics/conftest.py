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


def add_customers(ids) -> None:
    """Bare customer rows with these ids (purchases need them); call in an app context."""
    from sqlalchemy import insert, select

    from core.customers.models import Customer
    from core.extensions import db

    ids = set(ids) - set(db.session.execute(select(Customer.id).where(Customer.id.in_(ids)))
                         .scalars())
    if ids:
        db.session.execute(insert(Customer), [
            {"id": i, "kind": "person", "display_name": f"C{i}"} for i in sorted(ids)])
