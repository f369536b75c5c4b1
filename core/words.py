"""Numbers and amounts in words, Persian and English (for invoices and cheques).

Persian follows the formal (cheque) style: groups joined with «و», «یکصد» for a hundred and
«یک هزار» for a lone thousand. English uses the short scale without "and":
"one million two hundred thousand".
"""

from flask_babel import gettext as _

from core.i18n import _lang
from core.money import UNIT_FACTOR, Money, display_unit

LIMIT = 10**18  # numbers below a quintillion (10^18) can be written

FA_ONES = ("", "یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه",
           "ده", "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده",
           "نوزده")
FA_TENS = ("", "", "بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود")
FA_HUNDREDS = ("", "یکصد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد",
               "نهصد")
FA_SCALES = ("", "هزار", "میلیون", "میلیارد", "تریلیون", "کوادریلیون")

EN_ONES = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
           "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
           "eighteen", "nineteen")
EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
           "ninety")
EN_SCALES = ("", "thousand", "million", "billion", "trillion", "quadrillion")

UNIT_WORDS = {
    "fa": {"rial": "ریال", "toman": "تومان"},
    "en": {"rial": ("rial", "rials"), "toman": ("toman", "tomans")},
}


def _groups(number: int) -> list[int]:
    """Groups of three digits, least significant first."""
    groups = []
    while number:
        number, group = divmod(number, 1000)
        groups.append(group)
    return groups


def _fa_group(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = [FA_HUNDREDS[hundreds]] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(FA_TENS[tens])
        if ones:
            parts.append(FA_ONES[ones])
    elif rest:
        parts.append(FA_ONES[rest])
    return " و ".join(parts)


def _en_group(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = [f"{EN_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(EN_TENS[tens] + (f"-{EN_ONES[ones]}" if ones else ""))
    elif rest:
        parts.append(EN_ONES[rest])
    return " ".join(parts)


def number_to_words(number: int, locale: str | None = None) -> str:
    """An integer in words: 1200000 → «یک میلیون و دویست هزار» / "one million two hundred
    thousand". Works for every integer with absolute value below 10^18."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"number_to_words takes an int, not {type(number).__name__}")
    if abs(number) >= LIMIT:
        raise ValueError(_("%(number)s is too large to write in words (the limit is 10^18)",
                           number=number))
    lang = _lang(locale)
    if number == 0:
        return "صفر" if lang == "fa" else "zero"
    if number < 0:
        return ("منفی " if lang == "fa" else "minus ") + number_to_words(-number, lang)
    parts = []
    for scale, group in reversed(list(enumerate(_groups(number)))):
        if not group:
            continue
        if lang == "fa":
            parts.append(_fa_group(group) + (f" {FA_SCALES[scale]}" if scale else ""))
        else:
            parts.append(_en_group(group) + (f" {EN_SCALES[scale]}" if scale else ""))
    return (" و " if lang == "fa" else " ").join(parts)


def amount_in_words(value, unit: str | None = None, locale: str | None = None) -> str:
    """An amount of rials in words with its unit: «یک میلیون و دویست هزار ریال».

    In toman, an amount that is not a whole number of tomans keeps the remainder in rials:
    «یک هزار و دویست تومان و پنج ریال», so the words are always exact.
    """
    amount = value.amount if isinstance(value, Money) else value
    lang = _lang(locale)
    unit = unit or display_unit()
    tomans, rials = divmod(abs(amount), UNIT_FACTOR[unit])
    if unit == "rial":
        tomans, rials = abs(amount), 0
    text = _with_unit(tomans, unit, lang)
    if rials:
        joiner = " و " if lang == "fa" else " and "
        text = (text + joiner if tomans else "") + _with_unit(rials, "rial", lang)
    if amount < 0:
        text = ("منفی " if lang == "fa" else "minus ") + text
    return text


def _with_unit(number: int, unit: str, lang: str) -> str:
    words = number_to_words(number, lang)
    if lang == "fa":
        return f"{words} {UNIT_WORDS['fa'][unit]}"
    singular, plural = UNIT_WORDS["en"][unit]
    return f"{words} {singular if number == 1 else plural}"
