"""RFM quintile scores, the segment grid and the Pareto curve."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.analytics import rfm


def test_quintiles_of_distinct_values():
    assert rfm.quintile_scores([10, 20, 30, 40, 50]).tolist() == [1, 2, 3, 4, 5]
    assert rfm.quintile_scores(range(1, 11)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # Recency: fewer days since the last purchase is better.
    assert rfm.quintile_scores([1, 400, 30, 90, 7], higher_is_better=False).tolist() \
        == [5, 1, 3, 2, 4]


@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=200))
def test_quintiles_are_monotone_and_ties_share_a_score(values):
    scores = rfm.quintile_scores(values)
    assert set(scores.tolist()) <= {1, 2, 3, 4, 5}
    for value, score in zip(values, scores, strict=True):
        assert all(s == score for v, s in zip(values, scores, strict=True) if v == value)
        assert all(s <= score for v, s in zip(values, scores, strict=True) if v < value)


def test_rfm_scores_of_a_small_base():
    r, f, m = rfm.rfm_scores([3, 200, 40, 15, 365], [9, 1, 3, 5, 1], [900, 10, 120, 300, 5])
    assert r.tolist() == [5, 2, 3, 4, 1]
    assert f.tolist() == [5, 2, 3, 4, 2]  # the two single-purchase customers tie
    assert m.tolist() == [5, 2, 3, 4, 1]


@pytest.mark.parametrize(("scores", "key"), [
    ((5, 5, 5), "champions"), ((5, 4, 4), "champions"), ((4, 5, 5), "loyal"),
    ((3, 4, 4), "loyal"), ((5, 2, 3), "potential_loyalists"), ((3, 3, 3), "potential_loyalists"),
    ((5, 1, 1), "new"), ((4, 1, 1), "new"), ((2, 3, 4), "at_risk"), ((1, 4, 4), "at_risk"),
    ((1, 5, 5), "cant_lose"), ((2, 5, 4), "cant_lose"), ((2, 1, 2), "hibernating"),
    ((3, 2, 1), "hibernating"), ((1, 1, 1), "lost"), ((1, 2, 2), "lost"),
])
def test_segment_grid(scores, key):
    assert rfm.segment_key(*scores) == key
    assert rfm.segment_keys([scores[0]], [scores[1]], [scores[2]]).tolist() == [key]


def test_every_cell_has_a_named_segment_in_both_languages():
    seen = {rfm.segment_key(r, f, m) for r in range(1, 6) for f in range(1, 6)
            for m in range(1, 6)}
    assert seen == set(rfm.SEGMENTS)  # all eight names are reachable, nothing else
    assert rfm.segment(5, 5, 5).name("fa") == "قهرمانان"
    assert rfm.segment(1, 5, 5).name("en") == "Can't lose them"
    assert rfm.SEGMENTS["new"].name_fa == "تازه‌واردها"  # with its ZWNJ


def test_segment_refuses_scores_out_of_range():
    with pytest.raises(ValueError, match="R score must be between 1 and 5"):
        rfm.segment_key(0, 3, 3)
    with pytest.raises(ValueError):
        rfm.segment_keys([6], [1], [1])


def test_pareto_share_and_curve():
    amounts = [100, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # one customer in ten brings everything
    assert rfm.pareto_share(amounts, 0.1) == pytest.approx(1.0)
    assert rfm.pareto_share(amounts, 0.05) == pytest.approx(0.5)
    equal = [10] * 50
    assert rfm.pareto_share(equal) == pytest.approx(0.2)
    xs, ys = rfm.pareto_curve([5, 1, 4], points=None)
    assert xs.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert ys.tolist() == pytest.approx([0, 0.5, 0.9, 1.0])
    grid, values = rfm.pareto_curve(np.random.default_rng(1).pareto(1.2, 1000), points=11)
    assert grid[0] == 0 and grid[-1] == 1 and values[0] == 0 and values[-1] == pytest.approx(1)
    assert np.all(np.diff(values) >= 0) and np.all(np.diff(values, 2) <= 1e-12)  # concave
    with pytest.raises(ValueError, match="positive revenue"):
        rfm.pareto_share([0, -5])


def test_pareto_share_of_cdnow_calibration_spend():
    """A skewed, real base: the top 20% of CDNOW's customers bring well over half the spend."""
    from datetime import date

    from core.analytics.summary import read_purchases, summarise

    from .conftest import CDNOW

    with open(CDNOW, encoding="utf-8") as handle:
        summary = summarise(read_purchases(handle), date(1997, 9, 30), "day")
    share = rfm.pareto_share(summary.total)
    assert 0.5 < share < 0.8
    ordered = np.sort(summary.total)[::-1]
    top = ordered[: int(0.2 * len(ordered))].sum() / ordered.sum()
    assert share == pytest.approx(top, abs=0.01)
