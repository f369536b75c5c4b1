"""Predicted customer value over a horizon and the priority score that sorts lists for sales."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from core.analytics.clv import (
    MONTH_DAYS,
    BGNBDParams,
    GGParams,
    expected_purchases,
    expected_spend,
    probability_alive,
)
from core.analytics.summary import UNITS


def predicted_value(bgnbd: BGNBDParams, gg: GGParams, x, t_x, T, m, *, horizon_days: float = 90,
                    unit: str = "day", monthly_discount: float = 0.0) -> np.ndarray:
    """Expected spend in the next ``horizon_days``: E[purchases] x E[spend], discounted.

    The horizon is cut into months of 30 days (the last one may be shorter); the purchases
    expected in month k are valued at E[spend | x, m] / (1 + monthly_discount)^k. With no
    discount this is E[Y(horizon) | x, t_x, T] * E[M | x, m]. ``x, t_x, T`` are in ``unit``.
    """
    if horizon_days < 0:
        raise ValueError("the horizon cannot be negative")
    if monthly_discount < 0:
        raise ValueError("the discount rate cannot be negative")
    scale = UNITS[unit]
    spend = expected_spend(gg, x, m)
    edges = [0.0]
    while edges[-1] < horizon_days:
        edges.append(min(edges[-1] + MONTH_DAYS, float(horizon_days)))
    total = np.zeros(np.broadcast(np.asarray(x), np.asarray(t_x), np.asarray(T)).shape)
    previous = np.zeros_like(total)
    for k, edge in enumerate(edges[1:], start=1):
        cumulative = expected_purchases(bgnbd, edge / scale, x, t_x, T)
        total = total + (cumulative - previous) / (1.0 + monthly_discount) ** k
        previous = cumulative
    return total * spend


@dataclass(frozen=True)
class CustomerScore:
    """What the customer page and lists show for one customer."""

    p_alive: float
    expected_purchases: float
    expected_spend: float
    predicted_value: float
    priority: float


def score_arrays(bgnbd: BGNBDParams, gg: GGParams, x, t_x, T, m, *, horizon_days: float = 90,
                 unit: str = "day", monthly_discount: float = 0.0) -> dict[str, np.ndarray]:
    """Vectorised scores: arrays p_alive, expected_purchases, expected_spend, value, priority."""
    scale = UNITS[unit]
    alive = probability_alive(bgnbd, x, t_x, T)
    value = predicted_value(bgnbd, gg, x, t_x, T, m, horizon_days=horizon_days, unit=unit,
                            monthly_discount=monthly_discount)
    return {
        "p_alive": alive,
        "expected_purchases": expected_purchases(bgnbd, horizon_days / scale, x, t_x, T),
        "expected_spend": expected_spend(gg, x, m),
        "predicted_value": value,
        "priority": priority_score(value, alive),
    }


def score_customers(bgnbd: BGNBDParams, gg: GGParams, x, t_x, T, m, **options
                    ) -> list[CustomerScore]:
    """:func:`score_arrays` as one :class:`CustomerScore` per customer."""
    arrays = score_arrays(bgnbd, gg, x, t_x, T, m, **options)
    columns = [np.atleast_1d(arrays[name]) for name in
               ("p_alive", "expected_purchases", "expected_spend", "predicted_value", "priority")]
    return [CustomerScore(*(float(v) for v in row)) for row in zip(*columns, strict=True)]


def priority_score(value, p_alive) -> np.ndarray:
    """A 0-100 score that sorts customers for sales: value first, then how sure we are.

    priority = 100 * (rank of predicted value + P(alive) / 2) / n, where the rank is the
    0-based position in ascending predicted value (ties share their mean rank, so distinct
    values' ranks differ by at least 1). Predicted value decides the order (it already counts
    P(alive) through the expected purchases); P(alive) / 2, in [0, 0.5], only breaks ties
    between customers of equal value (for example customers predicted to buy nothing), so the
    likelier-active one is called first. The score lies in [0, 100), is strictly increasing in
    value, and is a percentile of the scored base: recompute it with the fit.
    """
    value = np.asarray(value, dtype=float)
    p_alive = np.asarray(p_alive, dtype=float)
    if value.shape != p_alive.shape:
        raise ValueError("value and p_alive must have the same shape")
    n = value.size
    if n == 0:
        return np.zeros(0)
    ranks = rankdata(value, method="average") - 1.0
    return 100.0 * (ranks + 0.5 * np.clip(p_alive, 0.0, 1.0)) / n

