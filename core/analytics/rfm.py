"""RFM quintile scores, the named segment grid, and the Pareto (revenue concentration) curve.

Pure functions over arrays; the SQL recompute feeds them (or mirrors them in SQL).

Scores: each of recency (days since the last purchase), frequency and monetary value is scored
1-5 by quintile of the customer base, 5 being best (most recent, most frequent, highest
spend). Ties always get the same score.

Segments use the common R x FM grid (R on one axis, FM = the mean of F and M rounded half up on
the other), the grid popularised by the widely used RFM segment map with the cells
``[1-2][1-2]`` hibernating, ``[1-2][3-4]`` at risk, ``[1-2]5`` can't lose them, ``3[1-2]``
about to sleep, ``33`` need attention, ``[3-4][4-5]`` loyal, ``41`` promising, ``51`` new,
``[4-5][2-3]`` potential loyalists, ``5[4-5]`` champions. We keep eight names, so three cells
fold into neighbours and one is split: about to sleep -> hibernating, need attention ->
potential loyalists, promising -> new, and the oldest, lowest corner (R = 1, FM <= 2) is lost::

    R \\ FM   1            2            3            4         5
    5        new          potential    potential    champion  champion
    4        new          potential    potential    loyal     loyal
    3        hibernating  hibernating  potential    loyal     loyal
    2        hibernating  hibernating  at risk      at risk   can't lose
    1        lost         lost         at risk      at risk   can't lose
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class Segment:
    """A named RFM segment: a stable key for filters plus its English and Persian names."""

    key: str
    name_en: str
    name_fa: str

    def name(self, locale: str = "fa") -> str:
        return self.name_fa if locale.startswith("fa") else self.name_en


SEGMENTS: dict[str, Segment] = {s.key: s for s in (
    Segment("champions", "Champions", "قهرمانان"),
    Segment("loyal", "Loyal", "وفادار"),
    Segment("potential_loyalists", "Potential loyalists", "وفادارانِ بالقوه"),
    Segment("new", "New", "تازه‌واردها"),
    Segment("at_risk", "At risk", "در معرض ریزش"),
    Segment("cant_lose", "Can't lose them", "نباید از دست داد"),
    Segment("hibernating", "Hibernating", "در خواب"),
    Segment("lost", "Lost", "از دست رفته"),
)}

_C, _L, _P, _N = "champions", "loyal", "potential_loyalists", "new"
_R, _X, _H, _Z = "at_risk", "cant_lose", "hibernating", "lost"
# GRID[r - 1][fm - 1]
GRID: tuple[tuple[str, ...], ...] = (
    (_Z, _Z, _R, _R, _X),  # R = 1
    (_H, _H, _R, _R, _X),  # R = 2
    (_H, _H, _P, _L, _L),  # R = 3
    (_N, _P, _P, _L, _L),  # R = 4
    (_N, _P, _P, _C, _C),  # R = 5
)


def quintile_scores(values, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1-5 by quintile: score = ceil(5 * mean rank / n); equal values share a score."""
    values = np.asarray(values, dtype=float)
    n = values.size
    if n == 0:
        return np.zeros(0, dtype=int)
    ranks = rankdata(values if higher_is_better else -values, method="average")
    return np.clip(np.ceil(5.0 * ranks / n - 1e-9), 1, 5).astype(int)


def rfm_scores(recency_days, frequency, monetary) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R, F, M) quintile scores; fewer days since the last purchase is a better R."""
    return (quintile_scores(recency_days, higher_is_better=False),
            quintile_scores(frequency), quintile_scores(monetary))


def fm_score(f: int, m: int) -> int:
    """The FM axis of the grid: the mean of F and M, rounded half up."""
    return int((f + m + 1) // 2)


def segment_key(r: int, f: int, m: int) -> str:
    """The segment key of one customer's (R, F, M) scores, each 1-5."""
    for name, score in (("R", r), ("F", f), ("M", m)):
        if not 1 <= int(score) <= 5:
            raise ValueError(f"{name} score must be between 1 and 5, not {score}")
    return GRID[int(r) - 1][fm_score(int(f), int(m)) - 1]


def segment(r: int, f: int, m: int) -> Segment:
    """The named segment of one customer's (R, F, M) scores."""
    return SEGMENTS[segment_key(r, f, m)]


def segment_keys(r, f, m) -> np.ndarray:
    """Vectorised :func:`segment_key` over arrays of scores."""
    r, f, m = (np.asarray(v, dtype=int) for v in (r, f, m))
    if r.size and (min(r.min(), f.min(), m.min()) < 1 or max(r.max(), f.max(), m.max()) > 5):
        raise ValueError("scores must be between 1 and 5")
    table = np.array(GRID, dtype=object)
    return table[r - 1, (f + m + 1) // 2 - 1]


def pareto_curve(amounts, points: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The concentration curve: share of customers (best first) vs share of revenue.

    Returns (customer_share, revenue_share) starting at (0, 0) and ending at (1, 1), one point
    per customer, or ``points`` evenly spaced customer shares interpolated on it. Customers
    with a non-positive total (refunds) count as customers bringing no revenue.
    """
    amounts = np.clip(np.asarray(amounts, dtype=float), 0.0, None)
    n = amounts.size
    total = amounts.sum()
    if n == 0 or total <= 0:
        raise ValueError("the Pareto curve needs at least one customer with positive revenue")
    ordered = np.sort(amounts)[::-1]
    xs = np.arange(n + 1) / n
    ys = np.concatenate(([0.0], np.cumsum(ordered) / total))
    if points is None:
        return xs, ys
    grid = np.linspace(0.0, 1.0, points)
    return grid, np.interp(grid, xs, ys)


def pareto_share(amounts, top: float = 0.2) -> float:
    """Share of revenue from the top ``top`` fraction of customers (linear between customers)."""
    if not 0.0 <= top <= 1.0:
        raise ValueError("top must be a fraction between 0 and 1")
    xs, ys = pareto_curve(amounts)
    return float(np.interp(top, xs, ys))
