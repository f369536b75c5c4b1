"""Money formatting in rial and toman, and amounts in words read back by a separate parser."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import to_latin_digits
from core.money import Money, format_money, in_unit, parse_money
from core.words import amount_in_words, number_to_words

amounts = st.integers(min_value=0, max_value=10**18 - 1)

FA_VALUES = {
    "صفر": 0, "یک": 1, "دو": 2, "سه": 3, "چهار": 4, "پنج": 5, "شش": 6, "هفت": 7, "هشت": 8,
    "نه": 9, "ده": 10, "یازده": 11, "دوازده": 12, "سیزده": 13, "چهارده": 14, "پانزده": 15,
    "شانزده": 16, "هفده": 17, "هجده": 18, "نوزده": 19, "بیست": 20, "سی": 30, "چهل": 40,
    "پنجاه": 50, "شصت": 60, "هفتاد": 70, "هشتاد": 80, "نود": 90, "یکصد": 100,
    "دویست": 200,
    "سیصد": 300, "چهارصد": 400, "پانصد": 500, "ششصد": 600, "هفتصد": 700, "هشتصد": 800,
    "نهصد": 900,
}
FA_SCALES = {"هزار": 10**3, "میلیون": 10**6, "میلیارد": 10**9, "تریلیون": 10**12,
             "کوادریلیون": 10**15}
EN_VALUES = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
EN_VALUES.update({w: 10 * i for i, w in enumerate(
    "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i >= 2})
EN_SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
             "quadrillion": 10**15}


def parse_fa(words: str) -> int:
    """Read Persian number words: groups «... هزار و ...» joined with «و»."""
    total, group = 0, 0
    for token in words.replace(" و ", " ").split():
        if token in FA_SCALES:
            assert group, f"scale word without a number in {words!r}"
            total += group * FA_SCALES[token]
            group = 0
        else:
            group += FA_VALUES[token]
    return total + group


def parse_en(words: str) -> int:
    total, group = 0, 0
    for token in words.replace("-", " ").split():
        if token == "hundred":
            group *= 100
        elif token in EN_SCALES:
            total += group * EN_SCALES[token]
            group = 0
        else:
            group += EN_VALUES[token]
    return total + group


@pytest.mark.parametrize("n, fa, en", [
    (0, "صفر", "zero"),
    (1, "یک", "one"),
    (15, "پانزده", "fifteen"),
    (105, "یکصد و پنج", "one hundred five"),
    (1000, "یک هزار", "one thousand"),
    (1200000, "یک میلیون و دویست هزار", "one million two hundred thousand"),
    (2_000_000_021, "دو میلیارد و بیست و یک", "two billion twenty-one"),
    (10**15, "یک کوادریلیون", "one quadrillion"),
])
def test_known_numbers_in_words(n, fa, en):
    assert number_to_words(n, "fa") == fa
    assert number_to_words(n, "en") == en


def test_amounts_in_words():
    assert amount_in_words(1200000, "rial", "fa") == "یک میلیون و دویست هزار ریال"
    assert amount_in_words(1200000, "toman", "fa") == "یکصد و بیست هزار تومان"
    assert amount_in_words(12345, "toman", "fa") == "یک هزار و دویست و سی و چهار تومان و پنج ریال"
    assert amount_in_words(5, "toman", "fa") == "پنج ریال"
    assert amount_in_words(0, "rial", "fa") == "صفر ریال"
    assert amount_in_words(1, "rial", "en") == "one rial"
    assert amount_in_words(Money(20), "toman", "en") == "two tomans"
    assert amount_in_words(-10, "rial", "en") == "minus ten rials"
    with pytest.raises(ValueError, match="too large"):
        number_to_words(10**18)


@given(amounts)
def test_persian_words_read_back(n):
    words = number_to_words(n, "fa")
    assert parse_fa(words) == n
    assert "  " not in words and not re.search(r"(^| )و( |$)و", words)


@given(amounts)
def test_english_words_read_back(n):
    assert parse_en(number_to_words(n, "en")) == n


def read_toman_words(words: str) -> int:
    """Rials from «... تومان و ... ریال», «... تومان» or «... ریال»."""
    tomans, rest = 0, words
    if " تومان" in words:
        head, _sep, rest = words.partition(" تومان")
        tomans = parse_fa(head)
        rest = rest.removeprefix(" و ")
    return tomans * 10 + (parse_fa(rest.removesuffix(" ریال")) if rest else 0)


@given(amounts)
def test_toman_words_are_exact(n):
    assert read_toman_words(amount_in_words(n, "toman", "fa")) == n


def test_format_money_examples():
    assert format_money(1200000, "rial", "fa") == "۱٬۲۰۰٬۰۰۰ ریال"
    assert format_money(1200000, "toman", "fa") == "۱۲۰٬۰۰۰ تومان"
    assert format_money(1200005, "toman", "fa") == "۱۲۰٬۰۰۰٫۵ تومان"
    assert format_money(1200000, "rial", "en") == "1,200,000 Rial"
    assert format_money(1200000, "toman", "en", with_unit=False) == "120,000"
    assert format_money(Money(-50), "toman", "en") == "-5 Toman"
    assert format_money(Money(7, "USD"), locale="en") == "7 USD"
    with pytest.raises(TypeError):
        format_money(1.5, "rial", "en")


@given(amounts, st.sampled_from(["rial", "toman"]), st.sampled_from(["fa", "en"]))
def test_formatted_money_reads_back_exactly(n, unit, locale):
    shown = format_money(n, unit, locale, with_unit=False)
    assert parse_money(shown, unit) == n
    assert in_unit(n, unit) * (10 if unit == "toman" else 1) == n


@given(amounts)
def test_persian_money_uses_persian_digits_and_separator(n):
    shown = format_money(n, "rial", "fa")
    assert shown.endswith(" ریال")
    number = shown.removesuffix(" ریال")
    assert re.fullmatch(r"[۰-۹]{1,3}(٬[۰-۹]{3})*", number)
    assert int(to_latin_digits(number.replace("٬", ""))) == n


def test_money_type_is_exact():
    assert Money(10) + Money(5) == Money(15)
    assert Money(10) * 3 == 3 * Money(10) == Money(30)
    assert -Money(4) == Money(-4)
    with pytest.raises(TypeError):
        Money(1.5)
    with pytest.raises(ValueError, match="cannot combine"):
        Money(1) + Money(1, "USD")


def test_parse_money():
    assert parse_money("۱۲٬۵۰۰", "toman") == 125000
    assert parse_money("۱۲٬۵۰۰٫۵", "toman") == 125005
    assert parse_money("1,200,000", "rial") == 1200000
    with pytest.raises(ValueError, match="decimal places"):
        parse_money("1.25", "toman")
    with pytest.raises(ValueError, match="whole number"):
        parse_money("1.5", "rial")
