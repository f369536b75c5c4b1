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
CODES = {"national_code": check_national_code, "national_id": check_legal_national_id,
         "economic_code": check_economic_code, "postal_code": check_postal_code}
CONTACTS = {"mobile": canonical_mobile, "phone": _clean_phone, "email": _clean_email}
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

    def keys(self) -> list[tuple[str, str]]:
        """What identifies the customer: ("contact", mobile/email), ("code", national code)."""
        found = [("contact", v) for v in self.mobiles] + [("contact", v) for v in self.emails]
        if self.fields.get("national_code"):
            found.append(("code", self.fields["national_code"]))
        return found

    def kind_for_new(self) -> str:
        """The kind of a new customer: as given, else organisation when only a legal name."""
        kind = self.fields.get("kind")
        if kind:
            return kind
        named = self.fields.get("first_name") or self.fields.get("last_name")
        legal = self.fields.get("legal_name") or self.fields.get("national_id")
        return "organisation" if legal and not named else "person"

    def name_problem(self) -> str | None:
        """Why this row cannot create a customer (no name), or None."""
        if self.kind_for_new() == "organisation":
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
        self.plan: dict[str, list[int]] = {}
        for index, target in enumerate(mapping):
            if target:
                self.plan.setdefault(target, []).append(index)
        custom = {d.name: d for d in definitions()}
        self.custom = {t: custom[t[7:]] for t in self.plan
                       if t.startswith("custom:") and t[7:] in custom}
        self.labels = {t: str(TARGETS[t]) for t in self.plan if t in TARGETS}
        self.labels.update({t: d.label for t, d in self.custom.items()})

    def __call__(self, line: int, values: list) -> Record:
        record = Record(line, values)
        errors = record.errors
        for target, columns in self.plan.items():
            cells = [values[i] for i in columns if _given(values[i])]
            if not cells:
                continue
            try:
                self._read(record, target, cells)
            except ValueError as exc:
                errors[target] = f"{self.labels.get(target, target)}: {exc}"
        if not errors and not (record.fields or record.mobiles or record.phones
                               or record.emails or record.tags or record.custom
                               or record.address):
            errors[""] = _("This row has no values in the columns chosen for import.")
        return record

    def _read(self, record: Record, target: str, cells: list) -> None:
        first = cells[0]
        if target in CONTACTS:
            clean = CONTACTS[target]
            split = _EMAIL_SPLIT if target == "email" else _LIST_SPLIT
            found = getattr(record, target + "s")
            for cell in cells:
                for part in split.split(str(cell)):
                    if part.strip():
                        value = clean(part.strip())
                        if value not in found:
                            found.append(value)
        elif target == "tags":
            for cell in cells:
                for name in str(cell).replace("،", ",").split(","):
                    name = " ".join(name.split())
                    if len(name) > 80:
                        raise ValueError(_("a tag is longer than %(n)d characters", n=80))
                    if name and name not in record.tags:
                        record.tags.append(name)
        elif target in TEXT_LIMITS:
            text = str(first).strip()
            if len(text) > TEXT_LIMITS[target]:
                raise ValueError(_("longer than %(n)d characters", n=TEXT_LIMITS[target]))
            if target in ("province", "city", "address"):
                record.address[target] = text
            else:
                record.fields[target] = text
        elif target in CODES:
            value = str(first).strip()
            if target == "national_code" and to_latin_digits(value).isdigit() \
                    and 8 <= len(value) < 10:
                value = value.zfill(10)  # spreadsheets drop leading zeros
            checked = CODES[target](value)
            if target == "postal_code":
                record.address[target] = checked
            else:
                record.fields[target] = checked
        elif target in ("birthday", "anniversary"):
            record.fields[target] = read_date(first)
        elif target == "kind":
            record.fields[target] = read_kind(first)
        elif target in ("consent_email", "consent_sms"):
            record.fields[target] = read_bool(first)
        elif target in self.custom:
            definition = self.custom[target]
            if definition.type == "text" and len(str(first).strip()) > 500:
                raise ValueError(_("longer than %(n)d characters", n=500))
            record.custom[definition.name] = _convert(definition, first)


def _given(value) -> bool:
    return value.strip() != "" if isinstance(value, str) else value is not None


def read_date(value) -> date:
    """A date cell, "1370/05/12" (Jalali, any digits) or "1991-08-03" (Gregorian)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return _read_date_text(str(value).strip())


@lru_cache(maxsize=50_000)
def _read_date_text(text: str) -> date:
    latin = to_latin_digits(text)
    match = _GREGORIAN.fullmatch(latin)
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
