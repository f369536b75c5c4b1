"""Iranian identifiers against independent reference implementations."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.iso7064 import mod_97_10

from core.validators import (
    canonical_mobile,
    check_economic_code,
    check_legal_national_id,
    check_national_code,
    check_postal_code,
    check_sheba,
    economic_code_kind,
    is_valid_legal_national_id,
    is_valid_mobile,
    is_valid_national_code,
    is_valid_postal_code,
    is_valid_sheba,
)

SCRIPTS = {
    "latin": str.maketrans("", ""),
    "persian": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"),
    "arabic": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
}
script = st.sampled_from(sorted(SCRIPTS))


def ref_national_code_ok(code: str) -> bool:
    """Reference: the check digit c satisfies (sum + c) ≡ 0 or (c == r and r < 2) mod 11."""
    if len(code) != 10 or not code.isdigit() or code == code[0] * 10:
        return False
    total = 0
    for position, digit in zip(range(10, 1, -1), code[:9], strict=True):
        total += position * int(digit)
    r = total % 11
    c = int(code[9])
    return c == r if r < 2 else (total + c) % 11 == 0


def ref_legal_id_ok(code: str) -> bool:
    """Reference, after the published algorithm (coefficients 29, 27, 23, 19, 17)."""
    if len(code) != 11 or not code.isdigit() or int(code[3:9]) == 0:
        return False
    d = int(code[9]) + 2
    coefficients = [29, 27, 23, 19, 17]
    s = sum((d + int(code[i])) * coefficients[i % 5] for i in range(10)) % 11
    return (0 if s == 10 else s) == int(code[10])


def ref_sheba_ok(text: str) -> bool:
    return text.startswith("IR") and len(text) == 26 and text[2:].isdigit() and \
        mod_97_10.is_valid(text[4:] + text[:4])


# --- mobile -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "۰۹۱۲ ۳۴۵ ۶۷۸۹", "09123456789", "9123456789", "+98 912 345 6789", "00989123456789",
    "+989123456789", "٠٩١٢-٣٤٥-٦٧٨٩", "(0912) 345 6789", "989123456789", "+98 0912 345 6789",
])
def test_mobile_variants(text):
    assert canonical_mobile(text) == "+989123456789"


@pytest.mark.parametrize("text", [
    "", "0912345678", "091234567890", "02112345678", "+1 912 345 6789", "00912 345 6789",
    "abc", "+98 812 345 6789",
])
def test_mobile_refused_with_reason(text):
    with pytest.raises(ValueError, match="not an Iranian mobile number"):
        canonical_mobile(text)
    assert not is_valid_mobile(text)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9), script,
       st.sampled_from(["0", "", "+98", "0098", "98", "+98 ", "+98 0"]),
       st.sampled_from(["", " ", "-"]))
def test_mobile_agrees_across_formats(rest, digits, prefix, sep):
    number = "9" + rest
    typed = prefix + sep.join([number[:3], number[3:6], number[6:]])
    canonical = canonical_mobile(typed.translate(SCRIPTS[digits]))
    assert canonical == "+98" + number
    assert canonical_mobile(canonical) == canonical


# --- national code ------------------------------------------------------------------------

def test_national_code_examples():
    assert check_national_code("0499370899") == "0499370899"
    assert check_national_code("۰۴۹۹۳۷۰۸۹۹") == "0499370899"
    with pytest.raises(ValueError, match="check digit"):
        check_national_code("0499370898")
    with pytest.raises(ValueError, match="all its digits are the same"):
        check_national_code("1111111111")
    with pytest.raises(ValueError, match="10 digits"):
        check_national_code("12345")


@given(st.text(alphabet="0123456789", min_size=10, max_size=10), script)
def test_national_code_agrees_with_reference(code, digits):
    assert is_valid_national_code(code.translate(SCRIPTS[digits])) == ref_national_code_ok(code)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_every_first_nine_has_exactly_one_check_digit(first_nine):
    valid = [c for c in "0123456789" if is_valid_national_code(first_nine + c)]
    expected = [c for c in "0123456789" if ref_national_code_ok(first_nine + c)]
    assert valid == expected
    assert len(valid) <= 1


# --- legal national id --------------------------------------------------------------------

def test_legal_id_examples():
    assert check_legal_national_id("10380284790") == "10380284790"
    with pytest.raises(ValueError, match="check digit"):
        check_legal_national_id("10380284791")
    with pytest.raises(ValueError, match="11 digits"):
        check_legal_national_id("1038028479")


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_legal_id_agrees_with_reference(code):
    assert is_valid_legal_national_id(code) == ref_legal_id_ok(code)


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_legal_id_valid_ones_agree(first_ten):
    for c in "0123456789":
        assert is_valid_legal_national_id(first_ten + c) == ref_legal_id_ok(first_ten + c)


# --- economic code ------------------------------------------------------------------------

def test_economic_code_kinds():
    assert economic_code_kind("10380284790") == "legal"
    assert economic_code_kind("04993708990001") == "person"
    assert economic_code_kind("411111111111") == "legacy"
    assert economic_code_kind("12345678901201") == "foreign"
    assert check_economic_code("۱۰۳۸۰۲۸۴۷۹۰") == "10380284790"
    with pytest.raises(ValueError, match="check digit"):
        economic_code_kind("10380284791")
    with pytest.raises(ValueError, match="serial from 0001"):
        economic_code_kind("04993708990000")
    with pytest.raises(ValueError, match="11 digits"):
        economic_code_kind("0499370899")


# --- Sheba --------------------------------------------------------------------------------

def test_sheba_examples():
    assert check_sheba("IR06 2960 0000 0010 0324 2000 01") == "IR062960000000100324200001"
    assert check_sheba("ir062960000000100324200001") == "IR062960000000100324200001"
    assert check_sheba("۰۶۲۹۶۰۰۰۰۰۰۰۱۰۰۳۲۴۲۰۰۰۰۱") == "IR062960000000100324200001"
    with pytest.raises(ValueError, match="check digits"):
        check_sheba("IR062960000000100324200002")
    with pytest.raises(ValueError, match="IR followed by 24 digits"):
        check_sheba("DE89370400440532013000")


@given(st.text(alphabet="0123456789", min_size=24, max_size=24))
def test_sheba_agrees_with_reference(digits):
    assert is_valid_sheba("IR" + digits) == ref_sheba_ok("IR" + digits)


@given(st.text(alphabet="0123456789", min_size=22, max_size=22), script)
def test_sheba_accepts_every_correctly_checked_number(bban, digits):
    check = mod_97_10.calc_check_digits(bban + "IR")
    sheba = f"IR{check}{bban}"
    assert ref_sheba_ok(sheba)
    assert check_sheba(sheba.translate(SCRIPTS[digits])) == sheba


# --- postal code --------------------------------------------------------------------------

def test_postal_code():
    assert check_postal_code("۱۵۸۷۶-۵۴۳۳۱") == "1587654331"
    assert is_valid_postal_code("1136914111")
    assert not is_valid_postal_code("0136914111")  # 0 in the first five
    assert not is_valid_postal_code("1236914111")  # 2 in the first five
    assert not is_valid_postal_code("1111614111")  # starts with four equal digits
    assert not is_valid_postal_code("1345514111")  # 5 as the fifth digit
    with pytest.raises(ValueError, match="10 digits"):
        check_postal_code("12345")
