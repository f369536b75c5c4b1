"""Analytics on a read replica (DATABASE_REPLICA_URL): the dashboard and the RFM aggregate read
the replica's data; with the replica down they read the primary and a warning is logged.

The replica is a second database of the suite's kind holding different data: a second SQLite
file, or a second schema on PostgreSQL (CRM_TEST_DATABASE_URL).
"""

import logging
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale

from config import TestConfig
from core import create_app, replica
from core.analytics import rfm, sql
from core.analytics.jobs import recompute_scores
from core.analytics.models import Purchase
from core.extensions import db
from tests.conftest import PG_URL, _drop_schema, _fresh_postgres_schema
from tests.core.analytics.conftest import add_customers

UNTIL = date(2024, 3, 31)
DEAD_URL = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


def _fill(n_customers: int) -> None:
    """``n_customers`` customers, each with purchases on a few days; scores recomputed."""
    ids = list(range(1, n_customers + 1))
    add_customers(ids)
    for i in ids:
        for k in range(i % 3 + 1):
            when = datetime(2024, 1, 1, 8, tzinfo=UTC) + timedelta(days=7 * k + i)
            db.session.add(Purchase(customer_id=i, occurred_at=when, amount=100_000 * i,
                                    source="import"))
    db.session.commit()
    recompute_scores(UNTIL)


@pytest.fixture
def replica_url(tmp_path):
    """A second database with 7 scored customers (the primary gets 2)."""
    if PG_URL:
        url, schema = _fresh_postgres_schema(PG_URL)
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        link = f"{PG_URL}?options=-csearch_path%3D{schema}"
    else:
        url, options = f"sqlite:///{tmp_path / 'replica.db'}", {}
        link = url
    other = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options,
                       CRM_UPLOAD_DIR=str(tmp_path / "replica-uploads"))
    with other.app_context():
        db.create_all()
        _fill(7)
        db.session.remove()
        db.engine.dispose()
    yield link
    if PG_URL:
        _drop_schema(url, schema)


@pytest.fixture
def analyst(app, make_user, login):
    with app.app_context():
        _fill(2)
    make_user("boss@example.ir", role="admin", locale="en")
    return login("boss@example.ir")


def _scored(client) -> int:
    with force_locale("en"):
        page = client.get("/analytics/")
    assert page.status_code == 200
    counts = re.findall(r'data-segment="\w+"><td>[^<]*</td><td class="text-end">([\d,]+)<',
                        page.get_data(as_text=True))
    assert len(counts) == len(rfm.SEGMENTS), "every segment row is shown"
    return sum(int(c.replace(",", "")) for c in counts)


def test_dashboard_and_rfm_read_the_replica_when_it_is_set(app, analyst, replica_url):
    assert _scored(analyst) == 2  # no replica: the primary's figures
    app.config["DATABASE_REPLICA_URL"] = replica_url
    assert _scored(analyst) == 7  # the replica's figures
    with app.app_context():
        assert replica.using_replica()
        assert len(sql.rfm_table(UNTIL)) == 7  # the heavy aggregate runs on the replica
        assert db.session.scalar(db.select(db.func.count()).select_from(Purchase)) == 5
    with app.app_context():
        replica.replica_engine().dispose()


def test_an_unreachable_replica_falls_back_to_the_primary_with_a_warning(app, analyst, caplog):
    app.config["DATABASE_REPLICA_URL"] = DEAD_URL
    with caplog.at_level(logging.WARNING, logger="core.replica"):
        assert _scored(analyst) == 2
        assert _scored(analyst) == 2  # and again without waiting on the dead replica
    warnings = [r for r in caplog.records if r.name == "core.replica"]
    assert len(warnings) == 1, "one warning, then the replica rests for RETRY_SECONDS"
    assert "read replica unreachable" in warnings[0].getMessage()
    with app.app_context():
        assert not replica.using_replica()
        assert len(sql.rfm_table(UNTIL)) == 2
    runner = app.test_cli_runner()
    result = runner.invoke(args=["crm", "check"])
    assert "cannot reach the read replica at DATABASE_REPLICA_URL" in result.output
