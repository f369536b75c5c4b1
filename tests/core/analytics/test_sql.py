"""RFM in SQL (exact quintiles and segments), the recompute job, and Pareto from the database.

Run on SQLite by default and on PostgreSQL with CRM_TEST_DATABASE_URL set.
"""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from core.analytics import rfm, sql
from core.analytics.jobs import last_summary, recompute_scores
from core.analytics.models import CustomerScore, Purchase
from core.analytics.summary import summarise
from core.extensions import db
from core.jobs.progress import JobRecord
from tests.core.analytics.conftest import add_customers

UNTIL = date(2024, 3, 31)
# customer -> (R, F, M) quintiles the data below is built to give (10 customers, 2 per quintile)
R = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
F = [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
M = [5, 1, 4, 2, 3, 3, 2, 4, 1, 5]
TOTAL_BY_M = {(5, 0): 900_000, (5, 1): 1_000_000, (4, 0): 700_000, (4, 1): 800_000,
              (3, 0): 500_000, (3, 1): 600_000, (2, 0): 300_000, (2, 1): 400_000,
              (1, 0): 100_000, (1, 1): 200_000}


def _at(day: date, hour: int = 8) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _add(customer: int, when: datetime, amount: int) -> None:
    add_customers([customer])
    db.session.add(Purchase(customer_id=customer, occurred_at=when, amount=amount,
                            source="import"))


def _hand_made() -> dict[int, list[tuple[date, int]]]:
    """Customer i (1..10): 11 - i purchase days, the last 7 (11 - i) days before UNTIL."""
    seen: dict[int, int] = {}
    data = {}
    for i in range(1, 11):
        m = M[i - 1]
        total = TOTAL_BY_M[(m, seen.get(m, 0))]
        seen[m] = seen.get(m, 0) + 1
        days = 11 - i
        last = UNTIL - timedelta(days=7 * (11 - i))
        dates = [last - timedelta(days=3 * k) for k in range(days)][::-1]
        amounts = [total - 10 * (days - 1)] + [10] * (days - 1)
        data[i] = list(zip(dates, amounts, strict=True))
    return data


@pytest.fixture
def purchases(app):
    with app.app_context():
        data = _hand_made()
        for customer, rows in data.items():
            for day, amount in rows:
                _add(customer, _at(day), amount)
        # two purchases of customer 1 on one day are one purchase day
        first_day, _amount = data[1][0]
        _add(1, _at(first_day, 12), 5)
        data[1][0] = (first_day, data[1][0][1] + 5)
        # after UNTIL in Iran time (21:00 UTC is 00:30 the next day in Tehran): left out
        _add(10, datetime(2024, 3, 31, 21, 0, tzinfo=UTC), 10**9)
        _add(3, _at(UNTIL + timedelta(days=5)), 10**9)
        db.session.commit()
        yield data


def test_quintiles_and_segments_are_exact(app, purchases):
    with app.app_context():
        table = sql.rfm_table(UNTIL)
    assert table.customer_id.tolist() == list(range(1, 11))
    assert table.r.tolist() == R and table.f.tolist() == F
    # customer 1's extra 5 rials move it from 900,000 to 900,005: still M = 5
    assert table.m.tolist() == M
    assert table.recency_days.tolist() == [7 * (11 - i) for i in range(1, 11)]
    assert table.frequency.tolist() == [11 - i for i in range(1, 11)]
    segments = dict(zip(range(1, 11), table.segments().tolist(), strict=True))
    assert segments[1] == "cant_lose"  # R1, F5 M5
    assert segments[2] == "at_risk"  # R1, FM (5 + 1) -> 3
    assert segments[7] == "potential_loyalists"  # R4, FM 2
    assert segments[9] == "new"  # R5, FM 1
    assert segments[10] == "potential_loyalists"  # R5, F1 M5 -> FM 3
    assert table.total[9] == 1_000_000  # the late purchase is not counted


def test_sql_agrees_with_python_summary_and_quintiles(app):
    """Random data with many ties: the SQL scores equal rfm.rfm_scores, the summary summarise."""
    rng = np.random.default_rng(7)
    rows = []
    with app.app_context():
        for customer in range(1, 61):
            for _ in range(int(rng.integers(1, 6))):
                day = UNTIL - timedelta(days=int(rng.integers(0, 40)))
                amount = int(rng.choice([1000, 2000, 5000]))
                rows.append((str(customer), day, amount))
                _add(customer, _at(day, int(rng.integers(0, 20))), amount)
        db.session.commit()
        table = sql.rfm_table(UNTIL)
    r, f, m = rfm.rfm_scores(table.recency_days, table.frequency, table.total)
    assert (table.r == r).all() and (table.f == f).all() and (table.m == m).all()
    summary = summarise(rows, UNTIL, "day")
    order = [summary.customer_ids.index(str(c)) for c in table.customer_id]
    x, t_x, T, mean = table.clv_summary()
    for ours, theirs in ((x, summary.x), (t_x, summary.t_x), (T, summary.T),
                         (mean, summary.m), (table.total, summary.total)):
        assert np.allclose(ours, np.asarray(theirs)[order])


def _scores() -> list[tuple]:
    rows = db.session.execute(db.select(CustomerScore).order_by(CustomerScore.customer_id))
    return [(s.customer_id, s.recency_days, s.frequency, s.monetary, s.r_score, s.f_score,
             s.m_score, s.segment, s.p_alive, s.expected_purchases_90d, s.predicted_value_90d,
             s.priority) for s in rows.scalars()]


def test_recompute_is_idempotent_and_reports_progress(app, purchases):
    with app.app_context():
        first = recompute_scores(UNTIL)
        once = _scores()
        second = recompute_scores(UNTIL)
        twice = _scores()
        jobs = db.session.execute(db.select(JobRecord).where(
            JobRecord.kind == "analytics.recompute")).scalars().all()
        assert last_summary()["pareto"] == second["pareto"]
    assert once == twice and len(once) == 10
    assert [row[7] for row in once][:2] == ["cant_lose", "at_risk"]
    assert first["customers"] == 10 and first["fit_error"] == ""
    assert first["bgnbd"] == second["bgnbd"]
    assert all(0 <= row[8] <= 1 and row[10] >= 0 and 0 <= row[11] < 100 for row in once)
    assert [(j.status, j.done, j.total) for j in jobs] == [("done", 4, 4)] * 2


def test_recompute_with_no_purchases_writes_nothing(app):
    with app.app_context():
        summary = recompute_scores(UNTIL)
        assert _scores() == []
    assert summary["customers"] == 0 and summary["pareto"] is None and summary["fit_error"]


def test_pareto_share_is_exact(app):
    totals = [5000, 3000] + [250] * 8  # top 2 of 10 customers: 8000 of 10000
    with app.app_context():
        for customer, amount in enumerate(totals, start=1):
            _add(customer, _at(UNTIL), amount)
        _add(11, _at(UNTIL), -400)  # a refund-only customer brings no revenue
        db.session.commit()
        recompute_scores(UNTIL)
        result = sql.pareto()
    assert result["customers"] == 11 and result["revenue"] == 10000
    assert result["top_share"] == pytest.approx(rfm.pareto_share(totals + [-400]), abs=1e-12)
    # top 20% of 11 customers is 2.2 customers: 8000 + 0.2 * 250
    assert result["top_share"] == pytest.approx(8050 / 10000, abs=1e-12)
    xs, ys = rfm.pareto_curve(totals + [-400], points=21)
    assert [p[0] for p in result["curve"]] == pytest.approx(xs.tolist(), abs=1e-6)
    assert [p[1] for p in result["curve"]] == pytest.approx(ys.tolist(), abs=1e-6)
    assert result["curve"][0] == [0.0, 0.0] and result["curve"][-1] == [1.0, 1.0]


def test_pareto_on_ten_customers_is_eighty_percent(app):
    with app.app_context():
        for customer, amount in enumerate([5000, 3000] + [250] * 8, start=1):
            _add(customer, _at(UNTIL), amount)
        db.session.commit()
        recompute_scores(UNTIL)
        assert sql.pareto()["top_share"] == pytest.approx(0.8, abs=1e-12)


def test_cli_recompute_and_nightly_registration(app, purchases, analytics_runner):
    from core.jobs import periodic_jobs

    result = analytics_runner.invoke(args=["crm", "analytics", "recompute", "--until",
                                           "2024-03-31"])
    assert result.exit_code == 0, result.output
    assert "Scored 10 customers as of 2024-03-31." in result.output
    assert "of customers bring" in result.output
    with app.app_context():
        assert len(_scores()) == 10
    entry = periodic_jobs()["analytics.recompute"]
    assert entry.every == 24 * 3600 and entry.path == "core.analytics.jobs:nightly_recompute"
