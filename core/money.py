"""Money: integer rials with a currency code, shown in the deployment's unit (rial or toman).

Amounts are stored and computed as integers in the smallest unit (rials for IRR); floats are
refused everywhere. A toman is ten rials. Shown in toman, an amount that is not a whole
number of tomans keeps its last digit as one decimal place ("۱۲٬۳۴۵٫۶ تومان"), so
the display is always exact: nothing is rounded away.
"""

from dataclasses import dataclass
from decimal import Decimal

from flask import has_app_context
from flask_babel import gettext as _

from core.i18n import _lang, format_number, parse_number, request_cached

UNITS = ("rial", "toman")
UNIT_FACTOR = {"rial": 1, "toman": 10}
UNIT_WORDS = {
    "fa": {"rial": "ریال", "toman": "تومان"},
    "en": {"rial": "Rial", "toman": "Toman"},
}


@dataclass(frozen=True, order=True)
class Money:
    """An exact amount: ``amount`` in the currency's smallest unit (rials for IRR)."""

    amount: int
    currency: str = "IRR"

    def __post_init__(self):
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money amount must be an int, not {type(self.amount).__name__}")

    def _same(self, other: "Money") -> "Money":
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise ValueError(_("cannot combine %(a)s and %(b)s amounts",
                               a=self.currency, b=other.currency))
        return other

    def __add__(self, other: "Money") -> "Money":
        other = self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        other = self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: int) -> "Money":
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def __str__(self) -> str:
        return format_money(self, locale="en")


def display_unit() -> str:
    """The deployment's display unit: setting display.unit, "rial" by default."""
    if not has_app_context():
        return "rial"

    def read():
        from core.database import get_setting

        unit = get_setting("display.unit", "rial")
        return unit if unit in UNITS else "rial"

    return request_cached("display.unit", read)


def _amount_and_currency(value) -> tuple[int, str]:
    if isinstance(value, Money):
        return value.amount, value.currency
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"money amounts are int rials or Money, not {type(value).__name__}")
    return value, "IRR"


def in_unit(rials: int, unit: str) -> int | Decimal:
    """An amount of rials in ``unit``: exact (a toman amount may have one decimal place)."""
    factor = UNIT_FACTOR[unit]
    if rials % factor == 0:
        return rials // factor
    return Decimal(rials) / factor


def unit_word(locale: str | None = None) -> str:
    """The deployment's display unit as a word ("ریال", "Toman"), for column headings."""
    return UNIT_WORDS[_lang(locale)][display_unit()]


def format_money(value, unit: str | None = None, locale: str | None = None,
                 with_unit: bool = True) -> str:
    """ "۱٬۲۰۰٬۰۰۰ ریال" in fa, "1,200,000 Rial" in en; the unit follows the deployment."""
    if value is None or value == "":
        return ""
    amount, currency = _amount_and_currency(value)
    lang = _lang(locale)
    if currency != "IRR":
        return f"{format_number(amount, lang)} {currency}" if with_unit else format_number(
            amount, lang)
    unit = unit or display_unit()
    text = format_number(in_unit(amount, unit), lang)
    return f"{text} {UNIT_WORDS[lang][unit]}" if with_unit else text


def parse_money(text, unit: str | None = None) -> int:
    """Rials from an amount typed in ``unit`` with any digits: "۱۲٬۵۰۰" toman → 125000."""
    unit = unit or display_unit()
    factor = UNIT_FACTOR[unit]
    number = parse_number(text, allow_decimal=factor > 1)
    rials = number * factor
    if rials != int(rials):
        raise ValueError(_("%(value)s has more decimal places than a rial allows", value=text))
    return int(rials)
