"""VAT comes from the date-effective rate table, never from a constant."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from core.extensions import db
from core.tax import (
    TaxRate,
    TaxRateMissing,
    apply_rate,
    ensure_default_tax_rates,
    set_tax_rate,
    vat_amount,
    vat_rate_bp_on,
    vat_rate_on,
)


def test_seeded_rates_follow_the_law(app):
    with app.app_context():
        # crm init (the app fixture) seeded the table already; seeding again changes nothing
        assert ensure_default_tax_rates() is False
        db.session.commit()
        assert db.session.execute(select(func.count(TaxRate.id))).scalar() == 2
        assert vat_rate_on(date(2023, 3, 21)) == Decimal("0.09")  # 1402/01/01
        assert vat_rate_on(date(2024, 3, 19)) == Decimal("0.09")  # 1402/12/29
        assert vat_rate_on(date(2024, 3, 20)) == Decimal("0.1")  # 1403/01/01
        assert vat_amount(1_000_000, date(2024, 3, 19)) == 90_000
        assert vat_amount(1_000_000, date(2024, 3, 20)) == 100_000
        with pytest.raises(TaxRateMissing, match="no VAT rate for category standard"):
            vat_rate_on(date(2023, 3, 20))
        with pytest.raises(TaxRateMissing, match="category export"):
            vat_amount(100, date(2025, 1, 1), category="export")


def test_a_datetime_is_taken_in_tehran(app):
    with app.app_context():
        ensure_default_tax_rates()
        # 20:30 UTC on 19 March 2024 is already 1403/01/01 in Tehran
        assert vat_rate_bp_on(datetime(2024, 3, 19, 20, 30, tzinfo=UTC)) == 1000
        assert vat_rate_bp_on(datetime(2024, 3, 19, 20, 29, tzinfo=UTC)) == 900


def test_a_new_rate_takes_effect_without_code_changes(app):
    with app.app_context():
        ensure_default_tax_rates()
        assert set_tax_rate("standard", 1200, date(2026, 3, 21)) is True
        assert set_tax_rate("standard", 1200, date(2026, 3, 21)) is False
        db.session.commit()
        assert vat_amount(1000, date(2026, 3, 20)) == 100
        assert vat_amount(1000, date(2026, 3, 21)) == 120
        with pytest.raises(ValueError, match="between 0 and 10000"):
            set_tax_rate("standard", 20000, date(2027, 1, 1))


@pytest.mark.parametrize("amount, rate_bp, expected", [
    (15, 1000, 2), (14, 1000, 1), (-15, 1000, -2), (0, 1000, 0), (1_234_567, 1000, 123_457),
    (5, 900, 0), (6, 900, 1), (1_000_000_000_000, 900, 90_000_000_000),
])
def test_rounding_is_half_away_from_zero_in_whole_rials(amount, rate_bp, expected):
    assert apply_rate(amount, rate_bp) == expected


@given(st.integers(-(10**15), 10**15), st.integers(0, 10_000))
def test_rounding_matches_decimal_arithmetic(amount, rate_bp):
    exact = Decimal(amount) * rate_bp / 10_000
    expected = int(exact.quantize(Decimal(1), rounding="ROUND_HALF_UP"))
    assert apply_rate(amount, rate_bp) == expected


def test_float_amounts_are_refused():
    with pytest.raises(TypeError):
        apply_rate(10.0, 1000)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.dates(date(2015, 1, 1), date(2035, 1, 1)), st.integers(0, 3000),
                       min_size=1, max_size=6),
       st.lists(st.dates(date(2014, 1, 1), date(2036, 1, 1)), min_size=1, max_size=8))
def test_lookup_picks_the_rate_in_force(app, table, days):
    with app.app_context():
        db.session.execute(delete(TaxRate))
        for valid_from, rate_bp in table.items():
            set_tax_rate("standard", rate_bp, valid_from)
        db.session.commit()
        for day in days:
            in_force = [valid_from for valid_from in table if valid_from <= day]
            if not in_force:
                with pytest.raises(TaxRateMissing):
                    vat_rate_bp_on(day)
                continue
            expected = table[max(in_force)]
            assert vat_rate_bp_on(day) == expected


def test_cli_lists_and_adds_rates(app, runner):
    with app.app_context():
        ensure_default_tax_rates()
        db.session.commit()
    result = runner.invoke(args=["crm", "tax", "set", "--rate", "۱۲", "--from", "۱۴۰۵/۰۱/۰۱"])
    assert result.exit_code == 0, result.output
    assert "Saved" in result.output
    listing = runner.invoke(args=["crm", "tax", "list"]).output.splitlines()
    assert listing == [
        "standard\t1402/01/01\t2023-03-21\t9%",
        "standard\t1403/01/01\t2024-03-20\t10%",
        "standard\t1405/01/01\t2026-03-21\t12%",
    ]
    with app.app_context():
        assert vat_amount(100, date(2026, 3, 21)) == 12
    bad = runner.invoke(args=["crm", "tax", "set", "--rate", "ten", "--from", "1405/01/01"])
    assert bad.exit_code != 0 and "not a percentage" in bad.output
    bad = runner.invoke(args=["crm", "tax", "set", "--rate", "10", "--from", "1405/13/01"])
    assert bad.exit_code != 0 and "no month 13" in bad.output
