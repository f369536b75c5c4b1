"""One import row → a normalised customer record, checked with the customer rules.

The checks are the ones ``core.customers.services`` applies to a form (canonical +98 mobiles,
lowercase emails, national code and id checksums, Jalali dates, tags split on commas or «،»,
custom fields by type), done without the database so that a million rows stay fast. Empty
cells mean "not given": an update leaves those fields as they are.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from types import SimpleNamespace

from flask_babel import gettext as _

from core.customers.custom_fields import _convert, definitions
from core.customers.import_mapping import TARGETS
from core.customers.services import _clean_email, _clean_phone
from core.i18n import parse_jalali_date, to_latin_digits
from core.validators import (
    canonical_mobile,
    check_economic_code,
    check_legal_national_id,
    check_national_code,
    check_postal_code,
)

TEXT_LIMITS = {"first_name": 100, "last_name": 100, "display_name": 200, "legal_name": 200,
               "source": 80, "province": 80, "city": 80, "address": 300}
_PLAIN_MOBILE = re.compile(r"(?:0|\+98|0098|98)?(9\d{9})", re.ASCII)
_WEIGHTS = range(10, 1, -1)
# Persian and Arabic-Indic digits to Latin, and some of the separators canonical_mobile drops.
_MOBILE_CHARS = str.maketrans({**{chr(0x06F0 + i): str(i) for i in range(10)},
                               **{chr(0x0660 + i): str(i) for i in range(10)},
                               **dict.fromkeys(" -_.()/\u200c\u200e\u200f\t")})


def mobile(value: str) -> str:
    """``canonical_mobile``, quicker for the usual ways of writing a number (۰۹۱۲ ۳۴۵ ۶۷۸۹)."""
    plain = _PLAIN_MOBILE.fullmatch(value.translate(_MOBILE_CHARS))
    return "+98" + plain.group(1) if plain else canonical_mobile(value)


def national_code(value: str) -> str:
    """``check_national_code``, quicker for ten plain digits that are right."""
    if len(value) == 10 and value.isascii() and value.isdigit() and value != value[0] * 10:
        remainder = sum(map(int.__mul__, map(int, value[:9]), _WEIGHTS)) % 11
        if int(value[9]) == (remainder if remainder < 2 else 11 - remainder):
            return value
    return check_national_code(value)


CONTACTS = {"mobile": mobile, "phone": _clean_phone, "email": _clean_email}
CODES = {"national_code": national_code, "national_id": check_legal_national_id,
         "economic_code": check_economic_code, "postal_code": check_postal_code}
KIND_WORDS = {
    "person": {"person", "individual", "p", "حقیقی", "شخص", "شخص حقیقی", "فرد"},
    "organisation": {"organisation", "organization", "company", "org", "o", "حقوقی", "سازمان",
                     "شرکت", "شخص حقوقی"},
}
YES = {"1", "true", "yes", "y", "on", "x", "✓", "بله", "بلی", "آری", "دارد", "موافق"}
NO = {"0", "false", "no", "n", "off", "خیر", "نه", "ندارد", "مخالف"}
_LIST_SPLIT = re.compile(r"[,;،؛|\n]+")
_EMAIL_SPLIT = re.compile(r"[,;،؛|\s]+")
_GREGORIAN = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


@dataclass(slots=True)
class Record:
    """A row read and checked: the given values, or ``errors`` (target → reason)."""

    line: int
    values: list
    fields: dict = field(default_factory=dict)
    mobiles: list = field(default_factory=list)
    phones: list = field(default_factory=list)
    emails: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    custom: dict = field(default_factory=dict)
    address: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    found_keys: list | None = None

    def keys(self) -> list[tuple[str, str]]:
        """What identifies the customer: ("contact", mobile/email), ("code", national code)."""
        if self.found_keys is None:
            found = [("contact", v) for v in self.mobiles]
            found += [("contact", v) for v in self.emails]
            if self.fields.get("national_code"):
                found.append(("code", self.fields["national_code"]))
            self.found_keys = found
        return self.found_keys

    def kind_for_new(self) -> str:
        """The kind of a new customer: as given, else organisation when only a legal name."""
        kind = self.fields.get("kind")
        if kind:
            return kind
        named = self.fields.get("first_name") or self.fields.get("last_name")
        legal = self.fields.get("legal_name") or self.fields.get("national_id")
        return "organisation" if legal and not named else "person"

    def name_problem(self, kind: str) -> str | None:
        """Why this row cannot create a customer of ``kind`` (no name), or None."""
        if kind == "organisation":
            if not (self.fields.get("legal_name") or self.fields.get("display_name")):
                return _("Give the organisation's legal name.")
        elif not any(self.fields.get(n) for n in ("first_name", "last_name", "display_name")):
            return _("Give the person's first or last name.")
        return None

    def reason(self) -> str:
        return "; ".join(self.errors.values())


class RowReader:
    """Turns the cells of one row into a ``Record`` following a column mapping."""

    def __init__(self, mapping: list[str]):
        plan: dict[str, list[int]] = {}
        for index, target in enumerate(mapping):
            if target:
                plan.setdefault(target, []).append(index)
        # Plain copies: the ORM objects expire at each batch's commit and would reload.
        custom = {d.name: SimpleNamespace(name=d.name, label=d.label, type=d.type,
                                          choices=list(d.choices or ()))
                  for d in definitions()}
        labels = {t: str(TARGETS[t]) for t in plan if t in TARGETS}
        labels.update({t: custom[t[7:]].label for t in plan
                       if t.startswith("custom:") and t[7:] in custom})
        self.steps = [(target, tuple(columns), labels[target], _reader(target, custom))
                      for target, columns in plan.items() if target in labels]

    def __call__(self, line: int, values: list) -> Record:
        record = Record(line, values)
        for target, columns, label, read in self.steps:
            if len(columns) == 1:
                cell = values[columns[0]]
                if cell.__class__ is str:
                    if not cell or cell.isspace():
                        continue
                elif cell is None:
                    continue
                cells = (cell,)
            else:
                cells = [values[i] for i in columns if _given(values[i])]
                if not cells:
                    continue
            try:
                read(record, cells)
            except ValueError as exc:
                record.errors[target] = f"{label}: {exc}"
        if not record.errors and not (record.fields or record.mobiles or record.phones
                                      or record.emails or record.tags or record.custom
                                      or record.address):
            record.errors[""] = _("This row has no values in the columns chosen for import.")
        return record


def _reader(target: str, custom: dict):
    """A function ``read(record, cells)`` that checks and stores one target's cells."""
    if target in CONTACTS:
        clean, attr = CONTACTS[target], target + "s"
        split = (_EMAIL_SPLIT if target == "email" else _LIST_SPLIT).split

        def read_contacts(record, cells):
            found = getattr(record, attr)
            for cell in cells:
                for part in split(str(cell)):
                    part = part.strip()
                    if part:
                        value = clean(part)
                        if value not in found:
                            found.append(value)
        return read_contacts
    if target == "tags":
        return _read_tags
    if target in TEXT_LIMITS:
        limit = TEXT_LIMITS[target]
        where = "address" if target in ("province", "city", "address") else "fields"

        def read_text(record, cells):
            text = str(cells[0]).strip()
            if len(text) > limit:
                raise ValueError(_("longer than %(n)d characters", n=limit))
            getattr(record, where)[target] = text
        return read_text
    if target in CODES:
        check = CODES[target]
        where = "address" if target == "postal_code" else "fields"

        def read_code(record, cells):
            value = str(cells[0]).strip()
            if target == "national_code" and 8 <= len(value) < 10 \
                    and to_latin_digits(value).isdigit():
                value = value.zfill(10)  # spreadsheets drop leading zeros
            getattr(record, where)[target] = check(value)
        return read_code
    if target.startswith("custom:"):
        definition = custom[target[7:]]

        def read_custom(record, cells):
            if definition.type == "text" and len(str(cells[0]).strip()) > 500:
                raise ValueError(_("longer than %(n)d characters", n=500))
            record.custom[definition.name] = _convert(definition, cells[0])
        return read_custom
    convert = {"birthday": read_date, "anniversary": read_date, "kind": read_kind,
               "consent_email": read_bool, "consent_sms": read_bool}[target]

    def read_value(record, cells):
        record.fields[target] = convert(cells[0])
    return read_value


def _read_tags(record: Record, cells) -> None:
    for cell in cells:
        for name in str(cell).replace("،", ",").split(","):
            name = " ".join(name.split())
            if len(name) > 80:
                raise ValueError(_("a tag is longer than %(n)d characters", n=80))
            if name and name not in record.tags:
                record.tags.append(name)


def _given(value) -> bool:
    if value.__class__ is str:
        return bool(value) and not value.isspace()
    return value is not None and value != ""


def read_date(value) -> date:
    """A date cell, "1370/05/12" (Jalali, any digits) or "1991-08-03" (Gregorian)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _read_date_text(to_latin_digits(str(value).strip()))


@lru_cache(maxsize=50_000)
def _read_date_text(text: str) -> date:
    match = _GREGORIAN.fullmatch(text)
    if match and int(match.group(1)) >= 1700:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            raise ValueError(_("%(value)s is not a date", value=text)) from None
    return parse_jalali_date(text)


def read_kind(value) -> str:
    text = " ".join(str(value).strip().casefold().split())
    labels = {"person": _("Person"), "organisation": _("Organisation")}
    for kind, words in KIND_WORDS.items():
        if text in words or text == labels[kind].casefold():
            return kind
    raise ValueError(_("%(value)s is not a kind of customer; write person or organisation",
                       value=value))


def read_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = to_latin_digits(str(value)).strip().casefold()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError(_("%(value)s is not yes or no", value=value))
