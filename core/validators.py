"""Iranian identifiers: mobile, national code, legal national id, economic code, Sheba, postal
code. Each ``check_*`` returns the canonical form or raises ``ValueError`` with a message
that names the reason; each ``is_valid_*`` says yes or no; the classes at the end are WTForms
validators that also replace the field's data with the canonical form.

All accept Persian, Arabic-Indic and Latin digits and the usual spaces and dashes.
"""

import re

from flask_babel import gettext as _
from wtforms.validators import ValidationError

from core.i18n import to_latin_digits

_SEPARATORS = re.compile(r"[\s\-_.()\u200c\u200e\u200f/]")


def _clean(value) -> str:
    return _SEPARATORS.sub("", to_latin_digits(str(value or "")))


# --- mobile ---------------------------------------------------------------------------------

def canonical_mobile(value) -> str:
    """An Iranian mobile number as ``+989XXXXXXXXX`` from "۰۹۱۲ ۳۴۵ ۶۷۸۹", "0098912...", ..."""
    text = _clean(value)
    international = text.startswith(("+", "00"))
    if international:
        text = text.removeprefix("+").removeprefix("00")
        text = text[2:] if text.startswith("98") else "not Iranian"
    elif len(text) in (12, 13) and text.startswith("98"):
        text = text[2:]
    if len(text) == 11 and text.startswith("0"):
        text = text[1:]
    if not re.fullmatch(r"9\d{9}", text):
        raise ValueError(_("%(value)s is not an Iranian mobile number; write it like "
                           "0912 345 6789", value=value))
    return "+98" + text


def is_valid_mobile(value) -> bool:
    return _ok(canonical_mobile, value)


# --- national code (کد ملی) -----------------------------------------------------------------

def national_code_check_digit(first_nine: str) -> int:
    """The tenth digit of a national code from its first nine."""
    remainder = sum(int(d) * (10 - i) for i, d in enumerate(first_nine)) % 11
    return remainder if remainder < 2 else 11 - remainder


def check_national_code(value) -> str:
    """A person's national code (کد ملی): 10 digits, the last a check digit."""
    text = _clean(value)
    if not re.fullmatch(r"\d{10}", text):
        raise ValueError(_("%(value)s is not a national code: it must have 10 digits",
                           value=value))
    if len(set(text)) == 1:
        raise ValueError(_("%(value)s is not a national code: all its digits are the same",
                           value=value))
    if national_code_check_digit(text[:9]) != int(text[9]):
        raise ValueError(_("%(value)s is not a national code: its check digit is wrong "
                           "(probably a typing mistake)", value=value))
    return text


def is_valid_national_code(value) -> bool:
    return _ok(check_national_code, value)


# --- legal entity national id (شناسه ملی) ---------------------------------------------------

LEGAL_ID_WEIGHTS = (29, 27, 23, 19, 17, 29, 27, 23, 19, 17)


def legal_id_check_digit(first_ten: str) -> int:
    """The eleventh digit of a legal national id: weights 29 27 23 19 17, tenth digit + 2."""
    shift = int(first_ten[9]) + 2
    remainder = sum((int(d) + shift) * w for d, w in zip(first_ten, LEGAL_ID_WEIGHTS,
                                                          strict=True)) % 11
    return 0 if remainder == 10 else remainder


def check_legal_national_id(value) -> str:
    """An organisation's national id (شناسه ملی): 11 digits, the last a check digit."""
    text = _clean(value)
    if not re.fullmatch(r"\d{11}", text):
        raise ValueError(_("%(value)s is not a national id: it must have 11 digits",
                           value=value))
    if text[3:9] == "000000":
        raise ValueError(_("%(value)s is not a national id: its serial part is zero",
                           value=value))
    if legal_id_check_digit(text[:10]) != int(text[10]):
        raise ValueError(_("%(value)s is not a national id: its check digit is wrong "
                           "(probably a typing mistake)", value=value))
    return text


def is_valid_legal_national_id(value) -> bool:
    return _ok(check_legal_national_id, value)


# --- economic code (کد اقتصادی / شماره اقتصادی) ---------------------------------------------

def economic_code_kind(value) -> str:
    """Which kind of economic code this is; raises ``ValueError`` when it is none.

    Since the taxpayers' system (Tax Affairs Organisation notice 36) the economic code is:
    - "legal": an organisation's 11-digit national id (checked);
    - "person": 14 digits, a person's national code (checked) and a 4-digit serial from 0001;
    - "foreign": 14 digits, a foreign national's 12-digit code and a serial from 01;
    - "legacy": the old 12-digit code, which still appears on older documents (digits only:
      it has no published check digit).
    """
    text = _clean(value)
    if re.fullmatch(r"\d{11}", text):
        check_legal_national_id(text)
        return "legal"
    if re.fullmatch(r"\d{12}", text):
        return "legacy"
    if re.fullmatch(r"\d{14}", text):
        if is_valid_national_code(text[:10]) and text[10:] != "0000":
            return "person"
        if text[12:] != "00":
            return "foreign"
        raise ValueError(_("%(value)s is not an economic code: a 14-digit code is a national "
                           "code followed by a serial from 0001", value=value))
    raise ValueError(_("%(value)s is not an economic code: it must have 11 digits (an "
                       "organisation's national id) or 14 (a person's)", value=value))


def check_economic_code(value) -> str:
    """An economic code in canonical form (digits only); see ``economic_code_kind``."""
    economic_code_kind(value)
    return _clean(value)


def is_valid_economic_code(value) -> bool:
    return _ok(check_economic_code, value)


# --- Sheba (IBAN) ---------------------------------------------------------------------------

def iban_remainder(iban: str) -> int:
    """ISO 13616 / ISO 7064 mod 97 of an IBAN (1 for a valid one)."""
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97


def check_sheba(value) -> str:
    """An Iranian IBAN (شبا) as "IR" + 24 digits; the "IR" may be left out when typing."""
    text = _clean(value).upper()
    if re.fullmatch(r"\d{24}", text):
        text = "IR" + text
    if not re.fullmatch(r"IR\d{24}", text):
        raise ValueError(_("%(value)s is not a Sheba number: it is IR followed by 24 digits",
                           value=value))
    if iban_remainder(text) != 1:
        raise ValueError(_("%(value)s is not a Sheba number: its check digits are wrong "
                           "(probably a typing mistake)", value=value))
    return text


def is_valid_sheba(value) -> bool:
    return _ok(check_sheba, value)


# --- postal code ----------------------------------------------------------------------------

_POSTAL = re.compile(r"(?!(\d)\1{3})[13-9]{4}[1346-9][013-9]{5}")


def check_postal_code(value) -> str:
    """An Iranian postal code: 10 digits (a dash after the fifth is fine).

    The post never uses 0 or 2 in the first five digits, nor 5 as the fifth, nor 2 in the
    last five, and no code starts with four equal digits; a code breaking these is a typo.
    """
    text = _clean(value)
    if not re.fullmatch(r"\d{10}", text):
        raise ValueError(_("%(value)s is not a postal code: it must have 10 digits",
                           value=value))
    if not _POSTAL.fullmatch(text):
        raise ValueError(_("%(value)s is not a postal code: Iranian postal codes have no 0 or "
                           "2 in the first five digits and no 2 in the last five",
                           value=value))
    return text


def is_valid_postal_code(value) -> bool:
    return _ok(check_postal_code, value)


def _ok(check, value) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


# --- WTForms validators ---------------------------------------------------------------------

class _Canonical:
    """Check the field with ``check``; store its canonical form; skip empty fields."""

    check = staticmethod(canonical_mobile)

    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field) -> None:
        if field.data in (None, ""):
            return
        try:
            field.data = type(self).check(field.data)
        except ValueError as exc:
            raise ValidationError(self.message or str(exc)) from exc


class Mobile(_Canonical):
    check = staticmethod(canonical_mobile)


class NationalCode(_Canonical):
    check = staticmethod(check_national_code)


class LegalNationalId(_Canonical):
    check = staticmethod(check_legal_national_id)


class EconomicCode(_Canonical):
    check = staticmethod(check_economic_code)


class Sheba(_Canonical):
    check = staticmethod(check_sheba)


class PostalCode(_Canonical):
    check = staticmethod(check_postal_code)
