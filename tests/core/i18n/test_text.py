"""Digits, numbers and search-key normalisation."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import (
    format_number,
    normalize,
    parse_number,
    to_latin_digits,
    to_persian_digits,
)

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# Text that exercises every rule: letter variants, diacritics, tatweel, ZWNJ, affixes,
# digits in three scripts, Latin in both cases, odd spaces.
PIECES = st.sampled_from([
    "ي", "ى", "ی", "ك", "ک", "ۀ", "ه", "ة", "أ", "إ", "ا", "آ", "ئ", "\u064e", "\u064b",
    "\u0651", "\u0654", "\u0670", "\u0640", "\u200c", "\u200d", " ", "  ", "\t", "\u00a0",
    "می", "نمی", "ها", "های", "تر", "ترین", "روم", "کتاب", "علی", "1", "۲", "٣", "A", "b",
    "ß", "İ", "ﻻ", "ﯼ",
])
MIXED_TEXT = st.lists(PIECES, max_size=12).map("".join)


def test_normalize_examples():
    assert normalize("علي") == normalize("علی") == "علی"
    assert normalize("كتاب") == "کتاب"
    assert normalize("خانۀ") == "خانه"
    assert normalize("مُحَمَّد") == "محمد"
    assert normalize("ســـلام") == "سلام"
    assert normalize("  Ali   REZA ") == "ali reza"
    assert normalize("۰۹۱۲٣٤٥") == "0912345"
    assert normalize(None) == ""


def test_zwnj_space_and_joined_forms_share_a_key():
    assert normalize("می‌روم") == normalize("میروم") == normalize("می روم") == "میروم"
    assert normalize("نمی‌روم") == normalize("نمی روم") == normalize("نمیروم")
    assert normalize("کتاب‌ها") == normalize("کتاب ها") == normalize("کتابها")
    assert normalize("بزرگ‌ترین") == normalize("بزرگ ترین") == normalize("بزرگترین")
    # ordinary word boundaries survive
    assert normalize("علی رضایی") == "علی رضایی"


@given(MIXED_TEXT)
def test_normalize_is_idempotent_on_persian_text(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.text())
def test_normalize_is_idempotent_on_any_text(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.one_of(MIXED_TEXT, st.text()))
def test_normalize_ignores_the_digit_script(text):
    latin = to_latin_digits(text)
    assert normalize(to_persian_digits(latin)) == normalize(latin) == normalize(
        latin.translate(ARABIC))


@given(MIXED_TEXT)
def test_normalize_leaves_no_variant_letters_or_marks(text):
    key = normalize(text)
    assert not set(key) & set("يىكۀة\u0640\u200c\u064e\u064b\u0651\u0670۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩")
    assert "  " not in key and key == key.strip()


@given(st.text())
def test_digit_round_trips(text):
    assert to_persian_digits(to_latin_digits(text)) == to_persian_digits(text)
    assert to_latin_digits(to_persian_digits(text)) == to_latin_digits(text)


@given(st.integers(min_value=0, max_value=10**20))
def test_digit_round_trip_on_numbers(n):
    assert to_latin_digits(to_persian_digits(n)) == str(n)
    assert set(to_persian_digits(n)) <= set("۰۱۲۳۴۵۶۷۸۹")


def test_format_number():
    assert format_number(1200000, "fa") == "۱٬۲۰۰٬۰۰۰"
    assert format_number(1200000, "en") == "1,200,000"
    assert format_number(-1234, "en") == "-1,234"
    assert format_number(Decimal("1234.5"), "fa") == "۱٬۲۳۴٫۵"
    assert format_number(None) == ""
    assert format_number(1234.567, "en", places=2) == "1,234.57"
    assert format_number(0.5, "fa") == "۰٫۵"
    assert format_number(12, "en", places=1) == "12.0"


@pytest.mark.parametrize("text, expected", [
    ("۱٬۲۰۰٬۰۰۰", 1200000), ("1,200,000", 1200000), ("١٢٠٠", 1200), ("1 200", 1200),
    ("-۵", -5), ("+7", 7), ("۰", 0), ("12\u200c000", 12000),
])
def test_parse_number(text, expected):
    assert parse_number(text) == expected


def test_parse_number_refuses_with_a_reason():
    with pytest.raises(ValueError, match="not a number"):
        parse_number("12a")
    with pytest.raises(ValueError, match="not a number"):
        parse_number("")
    with pytest.raises(ValueError, match="whole number"):
        parse_number("12.5")
    assert parse_number("۱۲٫۵", allow_decimal=True) == Decimal("12.5")


@given(st.integers(min_value=-(10**18), max_value=10**18), st.sampled_from(["fa", "en"]))
def test_format_then_parse_number(n, locale):
    assert parse_number(format_number(n, locale)) == n
