"""Which customer field each column of an import file fills: a guess from the column names
(Persian or English), or the mapping the user chose last time for the same column names.

A mapping is a list with one target per column: a key of ``TARGETS``, ``custom:<name>`` for
a custom field, or ``""`` to leave the column out.
"""

import hashlib
import json
import re

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.customers.custom_fields import definitions
from core.database import get_setting, set_setting
from core.i18n import normalize

IGNORE = ""
SETTING = "customers.import.mappings"
REMEMBERED_MAX = 50

TARGETS = {
    "first_name": _l("First name"), "last_name": _l("Last name"),
    "display_name": _l("Display name"), "legal_name": _l("Legal name"), "kind": _l("Kind"),
    "mobile": _l("Mobile"), "phone": _l("Phone"), "email": _l("Email"),
    "national_code": _l("National code"), "national_id": _l("National id"),
    "economic_code": _l("Economic code"), "birthday": _l("Birthday"),
    "anniversary": _l("Wedding anniversary"), "province": _l("Province"), "city": _l("City"),
    "address": _l("Address"), "postal_code": _l("Postal code"), "source": _l("Source"),
    "tags": _l("Tags"), "consent_email": _l("Agrees to receive emails"),
    "consent_sms": _l("Agrees to receive text messages"),
}
# Targets that several columns may fill ("Mobile 1", "Mobile 2"); the rest take one column.
MULTI = frozenset({"mobile", "phone", "email", "tags"})

# Column names people use, besides the labels above in every language of the deployment.
SYNONYMS = {
    "first_name": ("نام", "اسم", "نام کوچک", "first", "firstname", "given name"),
    "last_name": ("نام خانوادگی", "فامیلی", "فامیل", "نام فامیل", "lastname", "surname",
                  "family name", "family"),
    "display_name": ("نام کامل", "نام و نام خانوادگی", "نام مشتری", "مشتری", "name",
                     "full name", "fullname", "customer", "customer name"),
    "legal_name": ("نام شرکت", "شرکت", "نام سازمان", "نام حقوقی", "company", "company name",
                   "organisation", "organization", "organisation name", "organization name"),
    "kind": ("نوع مشتری", "حقیقی/حقوقی", "type", "customer type"),
    "mobile": ("موبایل", "تلفن همراه", "شماره همراه", "همراه", "شماره موبایل", "mobiles",
               "mobile number", "mobile phone", "cell", "cellphone", "cell phone"),
    "phone": ("تلفن", "تلفن ثابت", "شماره تلفن", "تلفن محل کار", "phones", "telephone", "tel",
              "landline", "phone number", "work phone"),
    "email": ("ایمیل", "پست الکترونیک", "پست الکترونیکی", "رایانامه", "emails", "e-mail",
              "mail", "email address"),
    "national_code": ("کد ملی", "کدملی", "شماره ملی", "national code", "national id code",
                      "melli code", "code melli"),
    "national_id": ("شناسه ملی", "شناسه ملی شرکت", "national id"),
    "economic_code": ("کد اقتصادی", "economic code"),
    "birthday": ("تاریخ تولد", "تولد", "birth date", "date of birth", "birthdate", "dob"),
    "anniversary": ("سالگرد ازدواج", "تاریخ ازدواج", "anniversary", "wedding date"),
    "province": ("استان", "state", "region"),
    "city": ("شهر", "شهرستان", "town"),
    "address": ("آدرس", "نشانی", "street", "street address"),
    "postal_code": ("کد پستی", "کدپستی", "postcode", "zip", "zip code"),
    "source": ("منبع", "منبع آشنایی", "نحوه آشنایی", "lead source"),
    "tags": ("برچسب", "برچسب ها", "تگ", "tag", "labels", "label", "گروه"),
    "consent_email": ("رضایت ایمیل", "موافقت با ایمیل", "email consent", "consent email"),
    "consent_sms": ("رضایت پیامک", "موافقت با پیامک", "sms consent", "consent sms"),
}
# Exported columns (core.customers.export) that an import should not fill.
_EXPORT_ONLY = (_l("Id"), _l("Owner"), _l("Added"))
_EXPORT_LABELS = {"mobile": _l("Mobiles"), "phone": _l("Phones"), "email": _l("Emails")}
_PUNCTUATION = re.compile(r"[_\-.:*#()\[\]/\\|]+")
_TRAILING_NUMBER = re.compile(r"\s*\d+$")


def header_key(header: str) -> str:
    """A column name reduced for matching: normalised, without punctuation, spaces (people
    write «نام خانوادگی» with a space, a ZWNJ or neither) or a trailing number."""
    text = _PUNCTUATION.sub(" ", normalize(header)).strip()
    return "".join(_TRAILING_NUMBER.sub("", text).split())


def choices() -> list[tuple[str, str]]:
    """(target, label) for every target a column can map to, custom fields last."""
    found = [(IGNORE, _("Leave out"))] + [(key, str(label)) for key, label in TARGETS.items()]
    found += [(f"custom:{d.name}", d.label) for d in definitions()]
    return found


def _index() -> dict[str, str]:
    from flask import current_app

    index: dict[str, str] = {}
    for target, words in SYNONYMS.items():
        for word in words:
            index.setdefault(header_key(word), target)
    for language in current_app.config.get("CRM_LANGUAGES", ("fa", "en")):
        with force_locale(language):
            for target, label in (*TARGETS.items(), *_EXPORT_LABELS.items()):
                index.setdefault(header_key(str(label)), target)
            for label in _EXPORT_ONLY:
                index.setdefault(header_key(str(label)), IGNORE)
    for definition in definitions():
        for word in (definition.name, definition.label):
            index[header_key(word)] = f"custom:{definition.name}"
    return index


def guess(headers: list[str]) -> list[str]:
    """The most likely target of each column from its name; each single target used once."""
    index = _index()
    used: set[str] = set()
    mapping = []
    for header in headers:
        target = index.get(header_key(header), IGNORE)
        if target and target not in MULTI and target in used:
            target = IGNORE
        used.add(target)
        mapping.append(target)
    return mapping


def _signature(headers: list[str]) -> str:
    keys = json.dumps([header_key(h) for h in headers], ensure_ascii=False)
    return hashlib.sha256(keys.encode()).hexdigest()[:32]


def remembered(headers: list[str]) -> list[str] | None:
    """The mapping last used for a file with these column names, if it still makes sense."""
    entry = (get_setting(SETTING) or {}).get(_signature(headers))
    if not entry or len(entry.get("targets", ())) != len(headers):
        return None
    known = {key for key, _label in choices()}
    return [t if t in known else IGNORE for t in entry["targets"]]


def remember(headers: list[str], mapping: list[str]) -> None:
    """Keep ``mapping`` for the next file with these column names (the caller commits)."""
    stored = dict(get_setting(SETTING) or {})
    signature = _signature(headers)
    stored.pop(signature, None)
    stored[signature] = {"headers": list(headers), "targets": list(mapping)}
    while len(stored) > REMEMBERED_MAX:
        stored.pop(next(iter(stored)))
    set_setting(SETTING, stored)


def suggest(headers: list[str]) -> tuple[list[str], bool]:
    """The remembered mapping for these headers, else a guess; and whether it was remembered."""
    mapping = remembered(headers)
    return (mapping, True) if mapping is not None else (guess(headers), False)


def problems(mapping: list[str]) -> list[str]:
    """What is wrong with a mapping: unknown targets, a single target used twice, no name."""
    labels = dict(choices())
    errors = []
    seen: set[str] = set()
    for target in mapping:
        if target not in labels:
            errors.append(_("%(target)s is not a customer field.", target=target))
        elif target and target not in MULTI and target in seen:
            errors.append(_("Only one column can go to %(field)s.", field=labels[target]))
        seen.add(target)
    if not seen & {"first_name", "last_name", "display_name", "legal_name", "mobile", "email",
                   "national_code"}:
        errors.append(_("Map at least one column to a name, mobile, email or national code."))
    return errors
