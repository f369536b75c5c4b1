"""Numerical helpers for the customer-value models: a robust 2F1 and a polished MLE."""

from __future__ import annotations

import numpy as np
from scipy import optimize, special


class FitError(ValueError):
    """The data cannot be fitted (too few customers, no repeat buyers, optimiser failed)."""


def hyp2f1(A, B, C, z) -> np.ndarray:
    """Gauss's 2F1 for 0 <= z < 1: SciPy's, with a direct series where SciPy gives up.

    SciPy returns inf/nan when C - A - B is an integer, C is large and z > ~0.9 (customers with
    many purchases and a long horizon); the power series converges there, if slowly.
    """
    A, B, C, z = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (A, B, C, z)))
    value = np.array(special.hyp2f1(A, B, C, z), dtype=float, ndmin=1).reshape(A.shape)
    bad = ~np.isfinite(value)
    if bad.any():
        value[bad] = _hyp2f1_series(A[bad], B[bad], C[bad], z[bad])
    return value


def _hyp2f1_series(A, B, C, z, max_terms: int = 1_000_000) -> np.ndarray:
    total = np.ones_like(z)
    term = np.ones_like(z)
    active = np.ones(z.shape, dtype=bool)
    for k in range(max_terms):
        i = np.flatnonzero(active)
        if i.size == 0:
            break
        term[i] *= (A[i] + k) * (B[i] + k) / ((C[i] + k) * (k + 1.0)) * z[i]
        total[i] += term[i]
        # Keep going while terms matter, and past the point where factors change sign.
        active[i] = (np.abs(term[i]) > 1e-17 * np.abs(total[i])) | (k + 2 < -np.minimum(A[i], B[i]))
    return total


def maximise(loglik, grad, start, names):
    """Maximise a log-likelihood over log-parameters: L-BFGS-B, then Newton steps to polish.

    Returns (natural parameters, log-likelihood, standard errors or None). The standard errors
    come from the observed information in log space: at the maximum the gradient vanishes, so
    se(p_i) = p_i * se(log p_i).
    """

    def fun(theta):
        p = np.exp(theta)
        value = loglik(p)
        if not np.isfinite(value):
            return 1e300, np.zeros_like(theta)
        return -value, -grad(p) * p

    res = optimize.minimize(fun, start, jac=True, method="L-BFGS-B",
                            options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10})
    theta, best = res.x, -res.fun
    if not (np.all(np.isfinite(theta)) and np.isfinite(best)):
        raise FitError(f"the optimiser found no maximum for {', '.join(names)}")
    hess = _log_hessian(grad, theta)
    for _ in range(4):  # Newton steps (with this Hessian) converge fast from here
        try:
            step = np.linalg.solve(hess, -grad(np.exp(theta)) * np.exp(theta))
        except np.linalg.LinAlgError:
            break
        candidate = theta + step
        value = loglik(np.exp(candidate))
        if not (np.isfinite(value) and value >= best - 1e-9):
            break
        theta, best = candidate, max(value, best)
        if np.max(np.abs(step)) < 1e-9:
            break
    try:
        cov = np.linalg.inv(-hess)
        diag = np.diag(cov)
        se = None if np.any(diag <= 0) or not np.all(np.isfinite(diag)) \
            else tuple(float(v) for v in np.exp(theta) * np.sqrt(diag))
    except np.linalg.LinAlgError:
        se = None
    return np.exp(theta), float(best), se


def _log_hessian(grad, theta) -> np.ndarray:
    """Hessian of the log-likelihood in log-parameters, by central differences of the gradient."""
    k = len(theta)
    hess = np.empty((k, k))
    for i in range(k):
        up, down = theta.copy(), theta.copy()
        up[i] += 1e-5
        down[i] -= 1e-5
        hess[:, i] = (grad(np.exp(up)) * np.exp(up) - grad(np.exp(down)) * np.exp(down)) / 2e-5
    return (hess + hess.T) / 2
