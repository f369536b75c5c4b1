"""RFM, lifetime value and Pareto computed from the purchases fact, written to the scores table.

One aggregate query summarises every customer (as of a day): purchases are combined per
calendar day in Iran time (UTC+03:30, no daylight saving since 2022), then per customer come
the first and last purchase day, the number of purchase days, the total and the first day's
value. In the same statement window functions give the quintile scores exactly as
:func:`core.analytics.rfm.quintile_scores` does (ties share the score of their mean rank:
score = ceil(5 * mean rank / n), in integer arithmetic). NTILE(5) is not used because it
splits equal values between quintiles arbitrarily, so a recompute could move customers.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import case, delete, func, insert, select, text

from core.analytics import rfm
from core.analytics.clv import BGNBDParams, FitError, GGParams, fit_bgnbd, fit_gamma_gamma
from core.analytics.models import CustomerScore
from core.analytics.value import score_arrays
from core.extensions import db
from core.replica import read_session

DAY_OFFSET = timedelta(hours=3, minutes=30)  # Iran time: purchases are grouped per local day
HORIZON_DAYS = 90
_EPOCH = date(1970, 1, 1)

_DAY = {
    "sqlite": "CAST(julianday(date(occurred_at, '+210 minutes')) - 2440587.5 AS INTEGER)",
    "postgresql": ("(CAST((occurred_at AT TIME ZONE 'UTC') + INTERVAL '210 minutes' AS DATE)"
                   " - DATE '1970-01-01')"),
}


def _score(rank: str, ties: str) -> str:
    # ceil(5 * mean_rank / n) with mean_rank = rank + (ties - 1) / 2, in integers
    return f"(5 * (2 * {rank} + {ties} - 1) + 2 * n - 1) / (2 * n)"


_RFM_SQL = """
WITH days AS (
  SELECT customer_id, {day} AS d, SUM(amount) AS v
  FROM core_purchase WHERE occurred_at < :end
  GROUP BY customer_id, {day}
), ordered AS (
  SELECT customer_id, d, v, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY d) AS rn
  FROM days
), cust AS (
  SELECT customer_id, MIN(d) AS first_d, MAX(d) AS last_d, COUNT(*) AS n_days,
         SUM(v) AS total, SUM(CASE WHEN rn = 1 THEN v ELSE 0 END) AS first_v
  FROM ordered GROUP BY customer_id
), ranked AS (
  SELECT customer_id, first_d, last_d, n_days, total, first_v,
         RANK() OVER (ORDER BY last_d) AS r_rank, COUNT(*) OVER (PARTITION BY last_d) AS r_ties,
         RANK() OVER (ORDER BY n_days) AS f_rank, COUNT(*) OVER (PARTITION BY n_days) AS f_ties,
         RANK() OVER (ORDER BY total) AS m_rank, COUNT(*) OVER (PARTITION BY total) AS m_ties,
         COUNT(*) OVER () AS n
  FROM cust
)
SELECT customer_id, first_d, last_d, n_days, CAST(total AS BIGINT), CAST(first_v AS BIGINT),
       {r} AS r_score, {f} AS f_score, {m} AS m_score
FROM ranked ORDER BY customer_id
"""
# Sorting a million customers three times (R, F, M) spills to disk with PostgreSQL's default
# 4 MB of work memory; the recompute's transaction may use more (SET LOCAL: it ends with it).
PG_WORK_MEM = "256MB"
_FETCH_ROWS = 50_000


@dataclass
class RFMTable:
    """Per-customer columns from the aggregate query, in ascending customer id order."""

    until: date
    customer_id: np.ndarray
    first_day: np.ndarray  # days since 1970-01-01, Iran time
    last_day: np.ndarray
    frequency: np.ndarray  # purchase days
    total: np.ndarray
    first_value: np.ndarray
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_id)

    @property
    def recency_days(self) -> np.ndarray:
        return (self.until - _EPOCH).days - self.last_day

    def segments(self) -> np.ndarray:
        return rfm.segment_keys(self.r, self.f, self.m) if len(self) else np.zeros(0, object)

    def clv_summary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, t_x, T, m) in days, as :func:`core.analytics.summary.summarise` builds them."""
        x = (self.frequency - 1).astype(float)
        t_x = (self.last_day - self.first_day).astype(float)
        T = ((self.until - _EPOCH).days - self.first_day).astype(float)
        repeat = self.total - self.first_value
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(x > 0, repeat / np.maximum(x, 1), 0.0)
        return x, t_x, T, m


def day_end(until: date) -> datetime:
    """The UTC instant at which ``until`` (an Iran-time calendar day) ends."""
    return datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1) \
        - DAY_OFFSET


def today() -> date:
    """Today's date in Iran time."""
    return (datetime.now(UTC) + DAY_OFFSET).date()


def tune_session(session=None) -> None:
    """Give the current transaction the work memory the recompute's sorts need (PostgreSQL)."""
    session = session or db.session
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))


def rfm_table(until: date | None = None) -> RFMTable:
    """Run the aggregate query over purchases on or before ``until`` (default today).

    The rows are streamed into int64 arrays a batch at a time, never held as Python objects
    all at once (a million customers would take hundreds of megabytes).
    """
    until = until or today()
    session = read_session()  # the read replica when there is one
    dialect = session.get_bind().dialect.name
    if dialect not in _DAY:
        raise RuntimeError(f"RFM needs SQLite or PostgreSQL, not {dialect}")
    sql = _RFM_SQL.format(day=_DAY[dialect], r=_score("r_rank", "r_ties"),
                          f=_score("f_rank", "f_ties"), m=_score("m_rank", "m_ties"))
    tune_session(session)
    result = session.execute(text(sql).execution_options(stream_results=True),
                                {"end": day_end(until)})
    parts = [np.array([tuple(row) for row in part], dtype=np.int64).reshape(-1, 9)
             for part in result.partitions(_FETCH_ROWS)]
    data = np.concatenate(parts) if parts else np.zeros((0, 9), dtype=np.int64)
    return RFMTable(until, *(np.ascontiguousarray(data[:, i]) for i in range(9)))


@dataclass(frozen=True)
class Fit:
    """The fitted models, or why they could not be fitted (too little history yet)."""

    bgnbd: BGNBDParams | None
    gg: GGParams | None
    error: str = ""


def fit_models(table: RFMTable) -> Fit:
    """Fit BG/NBD and Gamma-Gamma on the customers first seen before ``until`` (T > 0)."""
    x, t_x, T, m = table.clv_summary()
    keep = T > 0
    try:
        bgnbd = fit_bgnbd(x[keep], t_x[keep], T[keep])
        gg = fit_gamma_gamma(x[keep], m[keep])
        if gg.q <= 1:
            raise FitError("the Gamma-Gamma fit has q <= 1 (mean spend unbounded)")
    except FitError as exc:
        return Fit(None, None, str(exc))
    return Fit(bgnbd, gg)


@dataclass
class Scores:
    """The columns of ``core_customer_score`` for every customer of an :class:`RFMTable`."""

    table: RFMTable
    computed_at: datetime
    p_alive: np.ndarray | None = None  # None: RFM only (no usable fit)
    expected_purchases: np.ndarray | None = None
    predicted_value: np.ndarray | None = None
    priority: np.ndarray | None = None
    segments: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.table)

    def rows(self, start: int = 0, stop: int | None = None) -> Iterator[tuple]:
        """Row tuples in :data:`SCORE_COLUMNS` order, for customers ``start`` to ``stop``."""
        t = self.table
        stop = len(t) if stop is None else stop
        window = slice(start, stop)
        recency = t.recency_days[window]
        if self.segments is None:
            self.segments = t.segments()
        segments = self.segments[window]
        if self.p_alive is None:
            clv = [[None] * (stop - start)] * 4
        else:
            clv = [_nums(a[window]) for a in (self.p_alive, self.expected_purchases,
                                               self.predicted_value, self.priority)]
        return zip(t.customer_id[window].tolist(), recency.tolist(),
                   t.frequency[window].tolist(), t.total[window].tolist(),
                   t.r[window].tolist(), t.f[window].tolist(), t.m[window].tolist(),
                   [str(s) for s in segments], *clv,
                   [self.computed_at] * (stop - start), strict=True)


SCORE_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
                 "m_score", "segment", "p_alive", "expected_purchases_90d",
                 "predicted_value_90d", "priority", "computed_at")


def score_columns(table: RFMTable, fit: Fit, computed_at: datetime) -> tuple[Scores, Fit]:
    """The scores of every customer of ``table`` as arrays, and the fit used.

    A fit whose predictions are not finite (a degenerate optimum) is dropped: the rows get
    RFM only, and the returned fit says why.
    """
    scores = Scores(table, computed_at)
    if fit.bgnbd is not None:
        x, t_x, T, m = table.clv_summary()
        arrays = score_arrays(fit.bgnbd, fit.gg, x, t_x, T, m, horizon_days=HORIZON_DAYS)
        clv = [np.atleast_1d(arrays[k]).astype(float) for k in
               ("p_alive", "expected_purchases", "predicted_value", "priority")]
        if all(np.isfinite(column).all() for column in clv):
            (scores.p_alive, scores.expected_purchases, scores.predicted_value,
             scores.priority) = clv
        else:
            fit = Fit(None, None, "the fitted model is degenerate (no drop-out seen yet)")
    return scores, fit


def _nums(values: np.ndarray) -> list[float | None]:
    rounded = np.round(values, 9).tolist()
    if np.isfinite(values).all():
        return rounded
    return [v if math.isfinite(v) else None for v in rounded]


def write_scores(scores: Scores, batch: int = 20_000) -> None:
    """Replace every score row in the current transaction (the caller commits).

    On PostgreSQL the rows go in with ``COPY`` through the session's own connection; on
    SQLite with ``executemany`` a batch at a time. Either way they are made a batch at a time
    from the arrays, never all at once as Python objects.
    """
    db.session.execute(delete(CustomerScore))
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        table = CustomerScore.__tablename__
        names = ", ".join(f'"{c}"' for c in SCORE_COLUMNS)
        driver = connection.connection.driver_connection
        with driver.cursor() as cursor:
            # binary COPY: several times faster than text, given each column's type
            cursor.execute("SELECT attname, atttypid FROM pg_attribute "
                           "WHERE attrelid = %s::regclass AND attnum > 0", (table,))
            oids = dict(cursor.fetchall())
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([oids[c] for c in SCORE_COLUMNS])
                for start in range(0, len(scores), batch):
                    for row in scores.rows(start, min(start + batch, len(scores))):
                        copy.write_row(row)
        return
    for start in range(0, len(scores), batch):
        rows = scores.rows(start, min(start + batch, len(scores)))
        connection.execute(insert(CustomerScore),
                           [dict(zip(SCORE_COLUMNS, row, strict=True)) for row in rows])


# --- Pareto ----------------------------------------------------------------------------------

_CUMULATIVE_SQL = """
SELECT rn, cum FROM (
  SELECT ROW_NUMBER() OVER (ORDER BY v DESC, customer_id) AS rn,
         SUM(v) OVER (ORDER BY v DESC, customer_id ROWS UNBOUNDED PRECEDING) AS cum
  FROM (SELECT customer_id, CASE WHEN monetary > 0 THEN monetary ELSE 0 END AS v
        FROM core_customer_score) AS s
) AS t WHERE rn IN ({positions})
"""


def pareto(points: int = 21, top: float = 0.2) -> dict | None:
    """Revenue concentration over the scored customers: share of the top ``top`` and the curve.

    Linear between customers, as :func:`core.analytics.rfm.pareto_curve`; None when no
    customer brought revenue. Returns {"customers", "revenue", "top", "top_share", "curve":
    [[customer share, revenue share], ...]}.
    """
    positive = func.sum(case((CustomerScore.monetary > 0, CustomerScore.monetary), else_=0))
    n, total = db.session.execute(select(func.count(), positive)).one()
    n, total = int(n or 0), int(total or 0)
    if n == 0 or total <= 0:
        return None
    shares = sorted({*np.linspace(0.0, 1.0, points).tolist(), top})
    needed = set()
    for share in shares:
        i = int(np.floor(share * n))
        needed.update({i, min(i + 1, n)})
    needed.discard(0)
    positions = ", ".join(str(p) for p in sorted(needed))
    cum = {0: 0}
    cum.update({int(rn): int(c) for rn, c in
                db.session.execute(text(_CUMULATIVE_SQL.format(positions=positions)))})

    def at(share: float) -> float:
        pos = share * n
        i = min(int(np.floor(pos)), n)
        j = min(i + 1, n)
        y = cum[i] + (pos - i) * (cum[j] - cum[i])
        return y / total

    curve = [[round(s, 6), round(at(s), 6)] for s in np.linspace(0.0, 1.0, points).tolist()]
    return {"customers": n, "revenue": total, "top": top, "top_share": at(top), "curve": curve}
