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

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import case, delete, func, insert, select, text

from core.analytics import rfm
from core.analytics.clv import BGNBDParams, FitError, GGParams, fit_bgnbd, fit_gamma_gamma
from core.analytics.models import CustomerScore
from core.analytics.value import score_arrays
from core.extensions import db

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
SELECT customer_id, first_d, last_d, n_days, total, first_v,
       {r} AS r_score, {f} AS f_score, {m} AS m_score
FROM ranked ORDER BY customer_id
"""


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


def rfm_table(until: date | None = None) -> RFMTable:
    """Run the aggregate query over purchases on or before ``until`` (default today)."""
    until = until or today()
    dialect = db.session.get_bind().dialect.name
    if dialect not in _DAY:
        raise RuntimeError(f"RFM needs SQLite or PostgreSQL, not {dialect}")
    sql = _RFM_SQL.format(day=_DAY[dialect], r=_score("r_rank", "r_ties"),
                          f=_score("f_rank", "f_ties"), m=_score("m_rank", "m_ties"))
    rows = db.session.execute(text(sql), {"end": day_end(until)}).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 9
    ints = [np.array([int(v) for v in col], dtype=np.int64) for col in columns]
    return RFMTable(until, *ints)


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


def score_rows(table: RFMTable, fit: Fit, computed_at: datetime) -> tuple[list[dict], Fit]:
    """The rows of ``core_customer_score`` for every customer of ``table``, and the fit used.

    A fit whose predictions are not finite (a degenerate optimum) is dropped: the rows get
    RFM only, and the returned fit says why.
    """
    n = len(table)
    if fit.bgnbd is not None:
        x, t_x, T, m = table.clv_summary()
        scores = score_arrays(fit.bgnbd, fit.gg, x, t_x, T, m, horizon_days=HORIZON_DAYS)
        clv = [np.atleast_1d(scores[k]).astype(float) for k in
               ("p_alive", "expected_purchases", "predicted_value", "priority")]
        if not all(np.isfinite(column).all() for column in clv):
            fit = Fit(None, None, "the fitted model is degenerate (no drop-out seen yet)")
    if fit.bgnbd is None:
        clv = [[None] * n] * 4
    recency, segments = table.recency_days, table.segments()
    return [
        {"customer_id": int(table.customer_id[i]), "recency_days": int(recency[i]),
         "frequency": int(table.frequency[i]), "monetary": int(table.total[i]),
         "r_score": int(table.r[i]), "f_score": int(table.f[i]), "m_score": int(table.m[i]),
         "segment": str(segments[i]),
         "p_alive": _num(clv[0][i]), "expected_purchases_90d": _num(clv[1][i]),
         "predicted_value_90d": _num(clv[2][i]), "priority": _num(clv[3][i]),
         "computed_at": computed_at}
        for i in range(n)
    ], fit


def _num(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 9)


def write_scores(rows: list[dict], batch: int = 5000) -> None:
    """Replace every score row in the current transaction (the caller commits)."""
    db.session.execute(delete(CustomerScore))
    for start in range(0, len(rows), batch):
        db.session.execute(insert(CustomerScore), rows[start:start + batch])


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
