"""Customer lifetime value: the BG/NBD and Gamma-Gamma models, fitted by maximum likelihood.

BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to
the Pareto/NBD model", Marketing Science 24(2). While alive a customer buys at a Poisson rate
λ ~ Gamma(r, α); after every repeat purchase they drop out with probability p ~ Beta(a, b).

Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves", JMR 42(4), and
Fader & Hardie (2013), "The Gamma-Gamma model of monetary value". The value of a transaction is
Gamma(p, ν) with ν ~ Gamma(q, v) across customers, independent of the purchase process.

Everything works on per-customer summaries (see :mod:`core.analytics.summary`): frequency ``x``
(repeat purchases), recency ``t_x`` (time of the last repeat purchase since the first one), age
``T`` (time from the first purchase to the end of the calibration period) and ``m``, the mean
value of the repeat purchases. Functions are vectorised over numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from core.analytics.numerics import FitError, hyp2f1, maximise

# A month, for discounting, in days.
MONTH_DAYS = 30.0


@dataclass(frozen=True)
class BGNBDParams:
    """Fitted BG/NBD parameters, the maximised log-likelihood and standard errors."""

    r: float
    alpha: float
    a: float
    b: float
    loglik: float
    se: tuple[float, float, float, float] | None = None
    customers: int = 0

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.r, self.alpha, self.a, self.b


@dataclass(frozen=True)
class GGParams:
    """Fitted Gamma-Gamma parameters, the maximised log-likelihood and standard errors."""

    p: float
    q: float
    v: float
    loglik: float
    se: tuple[float, float, float] | None = None
    customers: int = 0

    def as_tuple(self) -> tuple[float, float, float]:
        return self.p, self.q, self.v


def _arrays(*values):
    return [np.asarray(v, dtype=float) for v in values]


def compress(*columns, weights=None):
    """Collapse identical rows into unique rows and their counts (summed ``weights``)."""
    stacked = np.column_stack(_arrays(*columns))
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=weights, minlength=len(unique))
    return [unique[:, i] for i in range(unique.shape[1])], counts


# --- BG/NBD ---------------------------------------------------------------------------------


def _bgnbd_tail_terms(params, x, t_x, T):
    """log of the two terms of the BG/NBD likelihood's last factor (A3 and A4 in FHL)."""
    r, alpha, a, b = params
    a3 = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        a4 = np.where(x > 0,
                      np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(alpha + t_x),
                      -np.inf)
    return a3, a4


def bgnbd_loglik(params, x, t_x, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (FHL 2005, eq. 6), computed in log space."""
    x, t_x, T = _arrays(x, t_x, T)
    r, alpha, a, b = params
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (special.gammaln(a + b) + special.gammaln(b + x)
          - special.gammaln(b) - special.gammaln(a + b + x))
    return a1 + a2 + np.logaddexp(*_bgnbd_tail_terms(params, x, t_x, T))


def _bgnbd_grad(params, x, t_x, T, w):
    """Gradient of the weighted total log-likelihood with respect to (r, alpha, a, b)."""
    r, alpha, a, b = params
    a3, a4 = _bgnbd_tail_terms(params, x, t_x, T)
    lse = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - lse), np.exp(a4 - lse)
    psi = special.digamma
    xm = np.maximum(x, 1)
    d_r = (psi(r + x) - psi(r) + np.log(alpha)
           - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x))
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = psi(a + b) - psi(a + b + x) + w4 / a
    d_b = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - w4 / (b + xm - 1)
    return np.array([np.dot(w, d) for d in (d_r, d_alpha, d_a, d_b)])


def _check_summary(x, t_x, T):
    x, t_x, T = _arrays(x, t_x, T)
    if not (x.shape == t_x.shape == T.shape) or x.ndim != 1:
        raise FitError("x, t_x and T must be one-dimensional arrays of the same length")
    if len(x) == 0:
        raise FitError("no customers to fit")
    if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > T + 1e-9) or np.any(T <= 0):
        raise FitError("summaries must satisfy x >= 0, 0 <= t_x <= T and T > 0")
    if np.any((x == 0) & (t_x != 0)):
        raise FitError("a customer without repeat purchases must have t_x = 0")
    return x, t_x, T


def fit_bgnbd(x, t_x, T, *, weights=None, compress_rows: bool = True) -> BGNBDParams:
    """Fit BG/NBD by maximum likelihood; ``weights`` counts identical customers per row."""
    x, t_x, T = _check_summary(x, t_x, T)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if compress_rows:
        (x, t_x, T), w = compress(x, t_x, T, weights=w)
    n = float(w.sum())

    def loglik(p):
        return float(np.dot(w, bgnbd_loglik(p, x, t_x, T)))

    def grad(p):
        return _bgnbd_grad(p, x, t_x, T, w)

    # Start from moment-ish guesses: one unit of rate per mean inter-purchase time.
    mean_rate = max(np.dot(w, x) / max(np.dot(w, T), 1e-9), 1e-6)
    start = np.log([1.0, 1.0 / mean_rate, 1.0, 1.0])
    params, best, se = maximise(loglik, grad, start, ("r", "alpha", "a", "b"))
    r, alpha, a, b = (float(v) for v in params)
    return BGNBDParams(r, alpha, a, b, best, se, int(round(n)))


def probability_alive(params: BGNBDParams, x, t_x, T) -> np.ndarray:
    """P(alive | x, t_x, T) (FHL 2005, eq. 11); 1 for customers with no repeat purchase."""
    r, alpha, a, b = params.as_tuple()
    x, t_x, T = _arrays(x, t_x, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.where(x > 0,
                            np.log(a) - np.log(b + np.maximum(x, 1) - 1)
                            + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
                            -np.inf)
    return np.exp(-np.logaddexp(0.0, log_odds))


def expected_purchases(params: BGNBDParams, t, x, t_x, T) -> np.ndarray:
    """Expected purchases in the next ``t`` units for a customer with history (x, t_x, T).

    FHL 2005, eq. 10, with the Gauss hypergeometric function rewritten by Euler's
    transformation, 2F1(r+x, b+x; c; z) = (1-z)^(c-r-x-b-x) 2F1(a+b-1-r, a-1; c; z) with
    c = a+b+x-1, so that its parameters stay small however large x is.
    """
    r, alpha, a, b = params.as_tuple()
    t, x, t_x, T = _arrays(t, x, t_x, T)
    if abs(a - 1.0) < 1e-7:  # the formula is 0/0 at a = 1; its limit is continuous
        a = 1.0 + 1e-7
    c = a + b + x - 1.0
    c = np.where(np.abs(c) < 1e-7, 1e-7, c)  # c = 0 (x = 0, a + b = 1): c * 2F1 has a limit
    z = t / (alpha + T + t)
    tail = np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)
    numerator = c / (a - 1.0) * (1.0 - tail)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds = np.where(x > 0,
                            np.log(a) - np.log(b + np.maximum(x, 1) - 1)
                            + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
                            -np.inf)
    return np.maximum(numerator * np.exp(-np.logaddexp(0.0, log_odds)), 0.0)


def expected_purchases_new(params: BGNBDParams, t) -> np.ndarray:
    """Expected purchases in (0, t] for a customer just acquired (FHL 2005, eq. 9)."""
    r, alpha, a, b = params.as_tuple()
    t = np.asarray(t, dtype=float)
    if abs(a - 1.0) < 1e-7:
        a = 1.0 + 1e-7
    z = t / (alpha + t)
    hyp = hyp2f1(r, b, a + b - 1.0, z)
    return (a + b - 1.0) / (a - 1.0) * (1.0 - np.exp(r * np.log(alpha / (alpha + t))) * hyp)


# --- Gamma-Gamma ------------------------------------------------------------------------------


def gamma_gamma_loglik(params, x, m) -> np.ndarray:
    """Per-customer log-density of the mean spend ``m`` over ``x`` transactions (x > 0)."""
    p, q, v = params
    x, m = _arrays(x, m)
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
            + q * np.log(v) + (px - 1.0) * np.log(m) + px * np.log(x)
            - (px + q) * np.log(v + x * m))


def _gg_grad(params, x, m, w):
    p, q, v = params
    psi = special.digamma
    px = p * x
    log_vxm = np.log(v + x * m)
    d_p = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - log_vxm)
    d_q = psi(px + q) - psi(q) + np.log(v) - log_vxm
    d_v = q / v - (px + q) / (v + x * m)
    return np.array([np.dot(w, d) for d in (d_p, d_q, d_v)])


def fit_gamma_gamma(x, m, *, weights=None) -> GGParams:
    """Fit Gamma-Gamma on customers with repeat purchases (x > 0) and positive mean spend."""
    x, m = _arrays(x, m)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = (x > 0) & (m > 0) & np.isfinite(m)
    x, m, w = x[keep], m[keep], w[keep]
    if len(x) < 3:
        raise FitError("the Gamma-Gamma model needs at least 3 customers with repeat purchases")

    def loglik(p):
        return float(np.dot(w, gamma_gamma_loglik(p, x, m)))

    def grad(p):
        return _gg_grad(p, x, m, w)

    mean = np.average(m, weights=w)
    start = np.log([2.0, 3.0, mean])  # population mean spend p v / (q - 1) = mean
    params, best, se = maximise(loglik, grad, start, ("p", "q", "v"))
    p, q, v = (float(val) for val in params)
    return GGParams(p, q, v, best, se, int(round(w.sum())))


def expected_spend(gg: GGParams, x, m) -> np.ndarray:
    """E[value of a transaction | x, m]: a weighted mean of the population mean and ``m``.

    (Fader & Hardie 2013, eq. 7) = (v + x m) p / (p x + q - 1); needs q > 1.
    Customers with x = 0 get the population mean p v / (q - 1).
    """
    p, q, v = gg.as_tuple()
    if q <= 1:
        raise FitError("the Gamma-Gamma mean spend is infinite when q <= 1")
    x, m = _arrays(x, m)
    m = np.where(x > 0, m, 0.0)
    return (v + x * m) * p / (p * x + q - 1.0)
