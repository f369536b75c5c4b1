"""Properties of the model formulas that must hold for any valid parameters and history."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.analytics import clv
from core.analytics.value import predicted_value, priority_score

positive = st.floats(min_value=0.01, max_value=50, allow_nan=False)


@st.composite
def bg_params(draw):
    return clv.BGNBDParams(draw(positive), draw(positive), draw(positive), draw(positive), 0.0)


@st.composite
def histories(draw):
    """A valid (x, t_x, T): t_x = 0 when x = 0, else 0 < t_x <= T."""
    T = draw(st.floats(min_value=0.1, max_value=500))
    x = draw(st.integers(min_value=0, max_value=300))
    t_x = 0.0 if x == 0 else draw(st.floats(min_value=0.0, max_value=1.0)) * T
    return float(x), t_x, T


@settings(max_examples=300, deadline=None)
@given(bg_params(), histories())
def test_probability_alive_is_a_probability(params, history):
    x, t_x, T = history
    p = float(clv.probability_alive(params, x, t_x, T))
    assert 0.0 <= p <= 1.0
    if x == 0:
        assert p == 1.0  # BG/NBD customers can only drop out right after a repeat purchase


@settings(max_examples=300, deadline=None)
@given(bg_params(), histories())
def test_loglik_is_finite(params, history):
    x, t_x, T = history
    assert np.isfinite(clv.bgnbd_loglik(params.as_tuple(), x, t_x, T))


@settings(max_examples=200, deadline=None)
@given(bg_params(), histories(), st.lists(st.floats(min_value=0, max_value=400), min_size=2,
                                          max_size=8))
def test_expected_purchases_is_non_negative_and_grows_with_time(params, history, times):
    x, t_x, T = history
    times = np.sort(np.array(times))
    values = clv.expected_purchases(params, times, x, t_x, T)
    assert np.all(np.isfinite(values))
    assert np.all(values >= 0)
    assert np.all(np.diff(values) >= -1e-9 * np.maximum(1.0, values[1:]))
    assert clv.expected_purchases(params, 0.0, x, t_x, T) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.1, max_value=50), st.floats(min_value=1.01, max_value=50),
       st.floats(min_value=0.1, max_value=1e6), st.integers(min_value=0, max_value=500),
       st.floats(min_value=0.01, max_value=1e6))
def test_expected_spend_lies_between_population_mean_and_own_mean(p, q, v, x, m):
    gg = clv.GGParams(p, q, v, 0.0)
    spend = float(clv.expected_spend(gg, x, m))
    population = p * v / (q - 1)
    if x == 0:
        assert np.isclose(spend, population)
    else:
        low, high = sorted((population, m))
        assert low * (1 - 1e-9) <= spend <= high * (1 + 1e-9)
    assert np.isfinite(clv.gamma_gamma_loglik((p, q, v), max(x, 1), m))


@settings(max_examples=100, deadline=None)
@given(bg_params(), histories(), st.floats(min_value=0, max_value=0.2))
def test_discounting_never_adds_value(params, history, rate):
    x, t_x, T = history
    gg = clv.GGParams(6.0, 4.0, 15.0, 0.0)
    plain = predicted_value(params, gg, x, t_x, T, 20.0, horizon_days=90)
    discounted = predicted_value(params, gg, x, t_x, T, 20.0, horizon_days=90,
                                 monthly_discount=rate)
    assert 0 <= discounted <= plain * (1 + 1e-12)


@given(st.lists(st.tuples(st.floats(min_value=0, max_value=1e9), st.floats(0, 1)), min_size=1,
                max_size=50))
def test_priority_orders_by_value_and_stays_in_range(rows):
    value = np.array([r[0] for r in rows])
    alive = np.array([r[1] for r in rows])
    score = priority_score(value, alive)
    assert np.all((score >= 0) & (score < 100))
    order = np.argsort(value, kind="stable")
    for lo, hi in zip(order, order[1:], strict=False):
        if value[hi] > value[lo]:
            assert score[hi] > score[lo]


def test_hyp2f1_falls_back_where_scipy_gives_up():
    """SciPy returns inf/nan for 2F1(1, 1; 101; 0.906); the series gives the right value."""
    from scipy import special

    from core.analytics.numerics import hyp2f1

    assert not np.isfinite(special.hyp2f1(1.0, 1.0, 101.0, 0.906))
    got = hyp2f1([1.0, 1.0], [1.0, 2.0], [101.0, 3.0], [0.906, 0.5])
    # 2F1(1, 1; c; z) = sum_k z^k k! / (c)_k; and 2F1(1, 2; 3; z) = 2 (-ln(1-z) - z) / z^2.
    k = np.arange(1, 400)
    terms = np.cumprod(np.concatenate(([1.0], 0.906 * k / (100 + k))))
    assert got[0] == pytest.approx(terms.sum(), rel=1e-12)
    assert got[1] == pytest.approx(2 * (-np.log(0.5) - 0.5) / 0.25, rel=1e-12)
    # A customer with many purchases long ago: a tiny but increasing expectation.
    params = clv.BGNBDParams(1.0, 1.0, 2.0, 1.0, 0.0)
    values = clv.expected_purchases(params, [1.0, 8.0, 12.0, 100.0], 99, 0.01, 0.25)
    assert np.all(np.isfinite(values)) and np.all(np.diff(values) > 0)


def test_expected_purchases_is_continuous_where_a_plus_b_is_one():
    """c = a + b + x - 1 = 0 is a pole of 2F1; the product in eq. 10 has a finite limit."""
    at = [float(clv.expected_purchases(clv.BGNBDParams(1.0, 1.0, 0.5, b, 0.0), 30, 0.0, 0.0, 1.0))
          for b in (0.5 - 1e-5, 0.5, 0.5 + 1e-5)]
    assert all(np.isfinite(at))
    assert abs(at[1] - at[0]) < 1e-4 and abs(at[2] - at[1]) < 1e-4
