"""WTForms fields for Persian-first input: Jalali dates, numbers and money in any digits, mobiles.

Each field accepts Persian, Arabic-Indic and Latin digits and shows its value back in the
current locale's digits. A value it cannot read becomes a field error naming the reason.
"""

from datetime import date, datetime

from flask_babel import LazyString
from flask_babel import gettext as _
from wtforms.fields import Field
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from core.i18n import (
    _lang,
    format_number,
    jdate,
    jdatetime_filter,
    lazy_date_hint,
    lazy_digits,
    localize_digits,
    parse_jalali_date,
    parse_jalali_datetime,
    parse_number,
)
from core.money import UNIT_WORDS, display_unit, format_money, parse_money
from core.validators import canonical_mobile


class _TextField(Field):
    """A text input that parses on submit; ``parse`` raises ValueError with the reason."""

    widget = TextInput()
    input_attrs: dict = {}

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {**self.input_attrs, **(kwargs.pop("render_kw", None) or {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def parse(self, text: str):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def show(self, value) -> str:
        return str(value)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "") or ""
        if not text.strip():
            self.data = None
            return
        try:
            self.data = self.parse(text)
        except ValueError as exc:
            self.data = None
            raise ValueError(str(exc)) from exc

    def pre_validate(self, form) -> None:
        _keep_parse_error(self)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.show(self.data)


class JalaliDateField(_TextField):
    """A date typed in Jalali ("۱۴۰۳/۰۱/۱۵"); ``data`` is a Gregorian ``datetime.date``."""

    input_attrs = {"data-jalali-date": True, "dir": "ltr", "autocomplete": "off",
                   "placeholder": lazy_date_hint(), "inputmode": "numeric"}

    def parse(self, text: str) -> date:
        return parse_jalali_date(text)

    def show(self, value) -> str:
        return jdate(value)


class JalaliDateTimeField(_TextField):
    """A Jalali date and Tehran time ("۱۴۰۳/۰۱/۱۵ ۱۴:۳۰"); ``data`` is an aware UTC datetime."""

    input_attrs = {"data-jalali-datetime": True, "dir": "ltr",
                   "autocomplete": "off", "placeholder": lazy_date_hint(with_time=True)}

    def parse(self, text: str) -> datetime:
        return parse_jalali_datetime(text)

    def show(self, value) -> str:
        return jdatetime_filter(value)


class DigitsIntegerField(_TextField):
    """A whole number typed with any digits and thousands separators ("۱٬۲۰۰")."""

    input_attrs = {"dir": "ltr", "inputmode": "numeric"}

    def parse(self, text: str) -> int:
        return parse_number(text)

    def show(self, value) -> str:
        return format_number(value)


class MoneyField(_TextField):
    """An amount typed in the deployment's unit (rial or toman); ``data`` is int rials.

    ``unit`` fixes the input unit; by default it is the display unit (setting display.unit),
    and the field's description names it.
    """

    input_attrs = {"dir": "ltr", "inputmode": "decimal", "data-money": True}

    def __init__(self, label=None, validators=None, unit: str | None = None, **kwargs):
        self.unit = unit
        super().__init__(label, validators, **kwargs)
        if not self.description:
            self.description = LazyString(self._unit_description)

    def _unit_description(self) -> str:
        unit = self.unit or display_unit()
        return _("Amount in %(unit)s", unit=UNIT_WORDS[_lang(None)][unit])

    def parse(self, text: str) -> int:
        return parse_money(text, self.unit or display_unit())

    def show(self, value) -> str:
        return format_money(value, unit=self.unit or display_unit(), with_unit=False)


class MobileField(_TextField):
    """An Iranian mobile number; ``data`` is canonical ``+989XXXXXXXXX``."""

    input_attrs = {"dir": "ltr", "inputmode": "tel", "autocomplete": "tel",
                   "placeholder": lazy_digits("0912 345 6789")}

    def parse(self, text: str) -> str:
        return canonical_mobile(text)

    def show(self, value) -> str:
        return localize_digits(value)


def _keep_parse_error(field: Field) -> None:
    """Stop the chain after a parse error, so DataRequired cannot replace the reason."""
    if field.process_errors:
        raise StopValidation()
