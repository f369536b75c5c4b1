"""Draw customer summaries from the BG/NBD and Gamma-Gamma models (tests and benchmarks)."""

from __future__ import annotations

import numpy as np


def simulate_bgnbd(rng: np.random.Generator, n: int, r: float, alpha: float, a: float,
                   b: float, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) for ``n`` customers born at time 0 and observed for ``T`` units.

    Each customer draws λ ~ Gamma(r, rate α) and p ~ Beta(a, b), buys after exponential gaps
    of mean 1/λ while alive, and after each repeat purchase drops out with probability p.
    """
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    now = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1.0, idx.size) / lam[idx]
        bought = now[idx] <= T[idx]
        done = idx[~bought]
        active[done] = False
        buyers = idx[bought]
        x[buyers] += 1
        t_x[buyers] = now[buyers]
        dropped = buyers[rng.random(buyers.size) < p[buyers]]
        active[dropped] = False
    return x, t_x, T


def simulate_spend(rng: np.random.Generator, x, p: float, q: float, v: float) -> np.ndarray:
    """Mean spend of ``x`` transactions per customer under Gamma-Gamma (0 where x = 0).

    ν ~ Gamma(q, rate v) per customer; each transaction is Gamma(p, rate ν), so the sum of x
    of them is Gamma(p x, rate ν).
    """
    x = np.asarray(x, dtype=float)
    nu = rng.gamma(q, 1.0 / v, x.size)
    shape = np.where(x > 0, p * x, 1.0)
    totals = rng.gamma(shape, 1.0 / nu)
    return np.where(x > 0, totals / np.maximum(x, 1), 0.0)
