"""Document totals exact to the rial: hypothesis over random lines against a reference
computed independently with fractions (the rounding rule in ``modules.sales.totals``)."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modules.sales import totals
from modules.sales.totals import LineInput, TotalsError


def round_half_up(value: Fraction) -> int:
    """Nearest integer, halves away from zero, written without integer-division tricks."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    whole = int(magnitude)  # floor of a non-negative fraction
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return sign * whole


def reference(lines, document_discount):
    """Every amount from first principles: exact fractions, then the documented rounding."""
    grosses = [round_half_up(Fraction(q, 1000) * p) for q, p, _d, _r in lines]
    discounts = [round_half_up(g * Fraction(d, 10000)) for g, (_q, _p, d, _r) in
                 zip(grosses, lines, strict=True)]
    nets = [g - d for g, d in zip(grosses, discounts, strict=True)]
    total_net = sum(nets)
    if total_net:
        exact = [Fraction(document_discount * n, total_net) for n in nets]
        shares = [int(e) for e in exact]  # floors (all non-negative)
        # hand the leftover rials to the largest fractional parts, earlier line on a tie
        ranked = sorted(range(len(nets)), key=lambda i: (exact[i] - shares[i], -i),
                        reverse=True)
        for i in ranked[:document_discount - sum(shares)]:
            shares[i] += 1
    else:
        shares = [0] * len(nets)
    taxables = [n - s for n, s in zip(nets, shares, strict=True)]
    vats = [round_half_up(t * Fraction(r, 10000)) for t, (_q, _p, _d, r) in
            zip(taxables, lines, strict=True)]
    return {
        "gross": grosses, "discount": discounts, "share": shares, "taxable": taxables,
        "vat": vats, "total": sum(taxables) + sum(vats),
    }


quantities = st.integers(min_value=1, max_value=5_000_000)  # 0.001 to 5000 units
prices = st.integers(min_value=0, max_value=5_000_000_000)  # up to 5 billion rials a unit
discount_bps = st.one_of(st.just(0), st.integers(min_value=0, max_value=10_000))
vat_bps = st.sampled_from([0, 900, 1000, 1250, 333])
line_tuples = st.tuples(quantities, prices, discount_bps, vat_bps)


@settings(max_examples=400, deadline=None)
@given(st.lists(line_tuples, min_size=1, max_size=12), st.data())
def test_totals_match_the_reference_to_the_rial(lines, data):
    nets = reference(lines, 0)["taxable"]
    discount = data.draw(st.integers(min_value=0, max_value=sum(nets)), label="discount")
    expected = reference(lines, discount)
    result = totals.compute([LineInput(*line) for line in lines], discount)
    assert [a.gross for a in result.lines] == expected["gross"]
    assert [a.discount for a in result.lines] == expected["discount"]
    assert [a.document_discount for a in result.lines] == expected["share"]
    assert [a.taxable for a in result.lines] == expected["taxable"]
    assert [a.vat for a in result.lines] == expected["vat"]
    assert result.total == expected["total"]
    # the document adds up the way it is printed
    assert sum(a.document_discount for a in result.lines) == discount
    assert result.gross - result.line_discounts - result.document_discount == result.taxable
    assert result.taxable + result.vat == result.total == sum(a.total for a in result.lines)
    assert all(a.taxable >= 0 for a in result.lines)


def test_known_example_by_hand():
    # 2.5 kg at 333,333 → 833,332.5 → 833,333; 10% off → 83,333.3 → 83,333; net 750,000
    # 3 pieces at 1,000,000 → 3,000,000; document discount 100,001 split 750,000:3,000,000
    # → 20,000.2 and 80,000.8 → floors 20,000 + 80,000, one rial left to the larger part
    result = totals.compute([LineInput(2500, 333_333, 1000, 1000),
                             LineInput(3000, 1_000_000, 0, 900)], 100_001)
    first, second = result.lines
    assert (first.gross, first.discount, first.net) == (833_333, 83_333, 750_000)
    assert (first.document_discount, second.document_discount) == (20_000, 80_001)
    assert (first.taxable, second.taxable) == (730_000, 2_919_999)
    assert (first.vat, second.vat) == (73_000, 262_800)  # 262,799.91 → 262,800
    assert result.total == 730_000 + 2_919_999 + 73_000 + 262_800


def test_halves_round_away_from_zero():
    assert totals.line_gross(500, 1) == 1  # 0.5 rial → 1
    assert totals.line_gross(1500, 1) == 2
    assert totals.line_discount(15, 1000) == 2  # 1.5 → 2
    assert totals.half_up_div(-3, 2) == -2


def test_allocation_ties_go_to_the_earlier_line():
    assert totals.allocate(1, [5, 5]) == [1, 0]
    assert totals.allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert totals.allocate(0, [0, 0]) == [0, 0]


@pytest.mark.parametrize(("lines", "discount"), [
    ([LineInput(0, 100)], 0),
    ([LineInput(1000, -1)], 0),
    ([LineInput(1000, 100)], 101),
    ([LineInput(1000, 100)], -1),
])
def test_impossible_documents_are_refused(lines, discount):
    with pytest.raises(TotalsError):
        totals.compute(lines, discount)


def test_limits_compare_line_and_overall_discounts():
    lines = [LineInput(1000, 1_000_000, 500), LineInput(1000, 1_000_000, 0)]
    result = totals.compute(lines, 0)
    assert totals.exceeds_limit(lines, result, 4)  # one line has 5%
    assert not totals.exceeds_limit(lines, result, 5)
    with_document = totals.compute(lines, 200_000)  # 5% + 10% of 2,000,000 = 12.5% overall
    assert totals.exceeds_limit(lines, with_document, 12)
    assert not totals.exceeds_limit(lines, with_document, 13)


@pytest.mark.parametrize(("text", "milli"), [("2", 2000), ("۲٫۵", 2500), ("0.125", 125),
                                             ("1,000", 1_000_000)])
def test_quantities_are_thousandths(text, milli):
    assert totals.parse_quantity(text) == milli
    assert totals.parse_quantity(totals.quantity_text(milli)) == milli


def test_a_fourth_decimal_is_refused():
    with pytest.raises(ValueError):
        totals.parse_quantity("0.0005")
