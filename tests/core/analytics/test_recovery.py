"""Parameter recovery: fit data simulated from the models with known parameters.

Tolerance: each estimate within 3 standard errors of the truth, the standard errors coming
from the inverse observed information of the fit itself. A Monte Carlo run of 150 data sets
of this shape (n = 3,000) gave z-scores with mean ~0 and sd ~1 for all seven parameters, so
the standard errors are honest and 3 SE is a 99.7% band; the seed makes the test repeatable.
The simulated sample is also large enough that the errors are small in absolute terms
(checked against a loose relative bound).
"""

import numpy as np
import pytest

from core.analytics import clv
from core.analytics.simulate import simulate_bgnbd, simulate_spend

TRUE_BG = (0.5, 8.0, 0.6, 2.5)
TRUE_GG = (6.0, 4.0, 15.0)


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(20240601)
    T = rng.uniform(26, 52, 5000)  # customers acquired over half a year, observed in weeks
    x, t_x, T = simulate_bgnbd(rng, 5000, *TRUE_BG, T)
    m = simulate_spend(rng, x, *TRUE_GG)
    return x, t_x, T, m


def test_simulated_data_is_plausible(simulated):
    x, t_x, T, m = simulated
    assert np.all((t_x <= T) & (t_x >= 0))
    assert np.all(t_x[x == 0] == 0)
    assert 0.4 < np.mean(x > 0) < 0.8
    assert np.all(m[x > 0] > 0)


def test_bgnbd_recovers_parameters(simulated):
    x, t_x, T, _ = simulated
    fit = clv.fit_bgnbd(x, t_x, T)
    assert fit.customers == 5000
    for name, estimate, truth, se in zip("r alpha a b".split(), fit.as_tuple(), TRUE_BG, fit.se,
                                         strict=True):
        assert abs(estimate - truth) < 3 * se, f"{name}={estimate:.3f}, true {truth}, se {se:.3f}"
        assert abs(estimate - truth) < 0.35 * truth, name
    # The maximum is a maximum: the truth has a lower likelihood.
    at_truth = clv.bgnbd_loglik(TRUE_BG, x, t_x, T).sum()
    assert at_truth < fit.loglik


def test_gamma_gamma_recovers_parameters(simulated):
    x, _, _, m = simulated
    fit = clv.fit_gamma_gamma(x, m)
    assert fit.customers == int(np.count_nonzero(x > 0))
    for name, estimate, truth, se in zip("p q v".split(), fit.as_tuple(), TRUE_GG, fit.se,
                                         strict=True):
        assert abs(estimate - truth) < 3 * se, f"{name}={estimate:.3f}, true {truth}, se {se:.3f}"
        assert abs(estimate - truth) < 0.35 * truth, name
    assert clv.gamma_gamma_loglik(TRUE_GG, x[x > 0], m[x > 0]).sum() < fit.loglik


def test_fit_refuses_bad_input_loudly():
    with pytest.raises(clv.FitError, match="no customers"):
        clv.fit_bgnbd([], [], [])
    with pytest.raises(clv.FitError, match="t_x <= T"):
        clv.fit_bgnbd([1], [5.0], [3.0])
    with pytest.raises(clv.FitError, match="t_x = 0"):
        clv.fit_bgnbd([0], [1.0], [3.0])
    with pytest.raises(clv.FitError, match="at least 3"):
        clv.fit_gamma_gamma([0, 0, 1], [0, 0, 10.0])
