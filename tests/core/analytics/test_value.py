"""Predicted value, priority scores, summaries from rows, and the CLI's refusals."""

from datetime import date

import numpy as np
import pytest

from core.analytics import clv
from core.analytics.summary import PurchaseFileError, parse_date, read_purchases, summarise
from core.analytics.value import predicted_value, priority_score, score_customers

BG = clv.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426, loglik=0.0)
GG = clv.GGParams(p=6.25, q=3.74, v=15.44, loglik=0.0)


def test_predicted_value_is_expected_purchases_times_expected_spend():
    x, t_x, T, m = np.array([0, 2, 7]), np.array([0, 30.43, 35.0]), np.array([38.86] * 3), \
        np.array([0, 22.35, 40.0])
    value = predicted_value(BG, GG, x, t_x, T, m, horizon_days=91, unit="week")
    purchases = clv.expected_purchases(BG, 13, x, t_x, T)
    np.testing.assert_allclose(value, purchases * clv.expected_spend(GG, x, m))
    # One who bought 7 times recently is worth more than one who never came back.
    assert value[2] > value[1] > value[0] > 0
    # Population mean spend for a one-off buyer: p v / (q - 1).
    assert clv.expected_spend(GG, 0, 0) == pytest.approx(6.25 * 15.44 / 2.74)


def test_discount_and_horizon():
    args = (BG, GG, 3, 20.0, 38.0, 30.0)
    assert predicted_value(*args, horizon_days=0, unit="week") == 0
    short = predicted_value(*args, horizon_days=30, unit="week")
    long = predicted_value(*args, horizon_days=365, unit="week")
    discounted = predicted_value(*args, horizon_days=365, unit="week", monthly_discount=0.02)
    assert 0 < short < discounted < long
    with pytest.raises(ValueError, match="discount"):
        predicted_value(*args, monthly_discount=-0.1)


def test_score_customers_and_priority():
    scores = score_customers(BG, GG, [0, 1, 6, 6], [0, 2.0, 37.0, 5.0], [38.0] * 4,
                             [0, 15.0, 30.0, 30.0], horizon_days=90, unit="week")
    best = max(scores, key=lambda s: s.priority)
    assert best is scores[2]  # frequent and recent
    assert scores[3].p_alive < 0.2 < scores[2].p_alive  # same x, long silent: probably gone
    assert all(s.predicted_value == pytest.approx(s.expected_purchases * s.expected_spend)
               for s in scores)
    # Equal value: P(alive) breaks the tie.
    tied = priority_score([0.0, 0.0, 5.0], [0.1, 0.9, 0.5])
    assert tied[1] > tied[0] and tied[2] > tied[1]


def test_summarise_rows_in_days_and_jalali_dates():
    rows = [
        ("a", date(2024, 1, 1), 100), ("a", date(2024, 1, 1), 50),  # one transaction
        ("a", date(2024, 1, 11), 30), ("a", date(2024, 1, 21), 10),
        ("b", date(2024, 1, 31), 70),
        ("c", date(2024, 3, 1), 10),  # after the calibration period: not in the summary
        ("a", date(2024, 2, 15), 999),  # after: ignored
    ]
    s = summarise(rows, date(2024, 1, 31), "day")
    assert s.customer_ids == ["a", "b"]
    assert s.x.tolist() == [2, 0]
    assert s.t_x.tolist() == [20, 0]
    assert s.T.tolist() == [30, 0]
    assert s.m.tolist() == [20, 0]
    assert s.total.tolist() == [190, 70]
    assert parse_date("۱۴۰۳-۰۱-۰۱") == date(2024, 3, 20)  # Nowruz 1403, Persian digits
    assert parse_date("1403/01/01") == date(2024, 3, 20)
    with pytest.raises(ValueError, match="not a date"):
        parse_date("yesterday")


def test_read_purchases_names_the_bad_line():
    good = ["customer_id,date,amount", "1,2024-01-01,10.5", "2,1403-01-01,۱۲"]
    assert [(c, d, a) for c, d, a in read_purchases(good)] == [
        ("1", date(2024, 1, 1), 10.5), ("2", date(2024, 3, 20), 12.0)]
    with pytest.raises(PurchaseFileError, match="line 3: amount 'ten' is not a number"):
        list(read_purchases(["customer_id,date,amount", "1,2024-01-01,1", "1,2024-01-02,ten"]))
    with pytest.raises(PurchaseFileError, match="no column amount"):
        list(read_purchases(["customer_id,date,total", "1,2024-01-01,1"]))


def test_cli_refuses_bad_input_in_plain_words(analytics_runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,date,amount\n1,2024-13-01,5\n", encoding="utf-8")
    result = analytics_runner.invoke(args=["crm", "analytics", "fit", "--purchases", str(bad),
                                           "--until", "2024-12-31"])
    assert result.exit_code != 0
    assert "line 2" in result.output and "not a date" in result.output
    empty = tmp_path / "late.csv"
    empty.write_text("customer_id,date,amount\n1,2025-01-01,5\n", encoding="utf-8")
    result = analytics_runner.invoke(args=["crm", "analytics", "fit", "--purchases", str(empty),
                                           "--until", "2024-12-31"])
    assert result.exit_code != 0 and "no purchases on or before 2024-12-31" in result.output
    result = analytics_runner.invoke(args=["crm", "analytics", "fit", "--purchases", str(empty),
                                           "--until", "soon"])
    assert result.exit_code != 0 and "not a date" in result.output
