"""What each import from the accounting package reads: its fields, the column mapping (guessed
from the column names, or as the user chose last time for that kind of import) and the
checked values of one row.

Kinds: ``customers`` (code, name, national code or id, economic code, mobile, city,
balance), ``sales`` (customer code, date, document number, amount), ``settlements``
(invoice number, amount, date, method, reference) and ``documents`` (the accounting side's
document list that reconciliation compares: number, date, amount, type).

A mapping is one target per column of the file (``""`` leaves the column out).
"""

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.customers.import_mapping import header_key
from core.customers.import_parse import cell_text
from core.customers.import_rows import mobile, national_code, read_date
from core.database import get_setting, set_setting
from core.i18n import normalize, parse_number, to_latin_digits
from core.validators import check_economic_code, check_legal_national_id

KINDS = ("customers", "sales", "settlements", "documents")
IMPORT_KINDS = ("customers", "sales", "settlements")
SETTING = "accounting_link.import.mappings"
MAX_AMOUNT = 10**17

TARGETS = {
    "customers": {"code": _l("Accounting code"), "name": _l("Name"),
                  "national_id": _l("National code or id"),
                  "economic_code": _l("Economic code"), "mobile": _l("Mobile"),
                  "city": _l("City"), "balance": _l("Balance")},
    "sales": {"customer_code": _l("Customer code"), "date": _l("Date"),
              "document": _l("Document number"), "amount": _l("Amount")},
    "settlements": {"invoice": _l("Invoice number"), "amount": _l("Amount"),
                    "date": _l("Date"), "method": _l("Payment method"),
                    "reference": _l("Reference")},
    "documents": {"number": _l("Document number"), "date": _l("Date"),
                  "amount": _l("Amount"), "type": _l("Document type")},
}
REQUIRED = {"customers": ("code",), "sales": ("customer_code", "date", "document", "amount"),
            "settlements": ("invoice", "amount", "date", "reference"),
            "documents": ("number", "date", "amount")}
KIND_LABELS = {"customers": _l("Customers"), "sales": _l("Past sales"),
               "settlements": _l("Payment settlements"), "documents": _l("Accounting documents")}

# Column names accounting packages (Hesabfa, Sepidar, Mahak, Holoo...) export, per field.
SYNONYMS = {
    "code": ("کد", "کد حساب", "کد مشتری", "کد طرف حساب", "کد شخص", "code", "account code"),
    "customer_code": ("کد مشتری", "کد طرف حساب", "کد حساب", "کد شخص", "customer code",
                      "customer", "code"),
    "name": ("نام", "نام مشتری", "نام طرف حساب", "نام و نام خانوادگی", "عنوان", "شرح حساب",
             "name", "customer name", "title"),
    "national_id": ("کد ملی", "شناسه ملی", "کد ملی / شناسه ملی", "کد ملی/شناسه ملی",
                    "national code", "national id"),
    "economic_code": ("کد اقتصادی", "economic code"),
    "mobile": ("موبایل", "تلفن همراه", "شماره همراه", "همراه", "mobile", "cell"),
    "city": ("شهر", "city"),
    "balance": ("مانده", "مانده حساب", "بدهکار بستانکار", "balance"),
    "date": ("تاریخ", "تاریخ سند", "تاریخ فاکتور", "تاریخ پرداخت", "date"),
    "document": ("شماره", "شماره سند", "شماره فاکتور", "شماره فاکتور فروش", "document",
                 "document number", "invoice number", "number"),
    "amount": ("مبلغ", "مبلغ کل", "جمع کل", "مبلغ فاکتور", "مبلغ پرداختی", "amount", "total"),
    "invoice": ("شماره فاکتور", "فاکتور", "invoice", "invoice number"),
    "method": ("روش پرداخت", "نوع پرداخت", "نحوه پرداخت", "method", "payment method"),
    "reference": ("شماره پیگیری", "کد پیگیری", "مرجع", "شماره مرجع", "reference",
                  "tracking number", "reference number"),
    "number": ("شماره", "شماره سند", "شماره فاکتور", "number", "document number",
               "document"),
    "type": ("نوع", "نوع سند", "type", "document type"),
}
METHOD_WORDS = {
    "cash": {"cash", "نقد", "نقدی", "وجه نقد", "صندوق"},
    "card": {"card", "pos", "کارت", "کارتخوان", "کارت خوان", "دستگاه کارتخوان"},
    "transfer": {"transfer", "bank", "bank transfer", "حواله", "انتقال", "واریز", "بانک",
                 "انتقال بانکی", "پایا", "ساتنا", "شبا"},
    "cheque": {"cheque", "check", "چک"},
}
TYPE_WORDS = {
    "invoice": {"invoice", "sale", "فاکتور", "فاکتور فروش", "فروش"},
    "credit_note": {"credit note", "credit_note", "return", "برگشت از فروش", "مرجوعی",
                    "اعلامیه بستانکار", "برگشتی"},
    "payment": {"payment", "receipt", "دریافت", "رسید دریافت", "پرداخت", "وصول"},
}


def labels(kind: str) -> dict[str, str]:
    return {key: str(label) for key, label in TARGETS[kind].items()}


def choices(kind: str) -> list[tuple[str, str]]:
    """(target, label) for a column of this kind of import, "leave out" first."""
    return [("", _("Leave out")), *labels(kind).items()]


def guess(kind: str, headers: list[str]) -> list[str]:
    """Each column's most likely target from its name; each target used once."""
    index: dict[str, str] = {}
    for target in TARGETS[kind]:
        for word in (*SYNONYMS.get(target, ()), str(TARGETS[kind][target]), target):
            index.setdefault(header_key(word), target)
    used: set[str] = set()
    mapping = []
    for header in headers:
        target = index.get(header_key(header), "")
        if target in used:
            target = ""
        used.add(target)
        mapping.append(target)
    return mapping


def suggest(kind: str, headers: list[str]) -> tuple[list[str], bool]:
    """The mapping to offer: what the user chose last time for a column of that name in this
    kind of import, else a guess; and whether anything was remembered."""
    remembered = (get_setting(SETTING) or {}).get(kind) or {}
    guessed = guess(kind, headers)
    mapping, used = [], False
    for header, guessed_target in zip(headers, guessed, strict=True):
        key = header_key(header)
        if key in remembered and (remembered[key] in TARGETS[kind] or remembered[key] == ""):
            mapping.append(remembered[key])
            used = True
        else:
            mapping.append(guessed_target)
    return mapping, used


def remember(kind: str, headers: list[str], mapping: list[str]) -> None:
    """Keep the choice for the next file of this kind (the caller commits)."""
    stored = dict(get_setting(SETTING) or {})
    mine = dict(stored.get(kind) or {})
    mine.update({header_key(h): t for h, t in zip(headers, mapping, strict=True) if h})
    stored[kind] = mine
    set_setting(SETTING, stored)


def problems(kind: str, mapping: list[str]) -> list[str]:
    """What is wrong with a mapping: unknown targets, one used twice, a required one missing."""
    names = labels(kind)
    errors, seen = [], set()
    for target in mapping:
        if target and target not in names:
            errors.append(_("%(target)s is not a field of this import.", target=target))
        elif target and target in seen:
            errors.append(_("Only one column can go to %(field)s.", field=names[target]))
        seen.add(target)
    for target in REQUIRED[kind]:
        if target not in seen:
            errors.append(_("Choose the column that holds %(field)s.", field=names[target]))
    return errors


@dataclass
class Row:
    """One row read and checked: ``values`` by target, ``errors`` as (column, message)."""

    line: int
    values: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)  # target -> the column's name in the file
    errors: list = field(default_factory=list)

    def fail(self, target: str, message: str) -> None:
        self.errors.append((self.columns.get(target, ""), message))


def _text(limit: int):
    def read(value) -> str:
        text = " ".join(cell_text(value).split())
        if len(text) > limit:
            raise ValueError(_("longer than %(n)d characters", n=limit))
        return text
    return read


def read_code(value) -> str:
    return _text(40)(to_latin_digits(cell_text(value)))


def read_amount(value) -> int:
    number = parse_number(cell_text(value).replace("ریال", "").replace("IRR", ""))
    if abs(number) >= MAX_AMOUNT:
        raise ValueError(_("%(value)s is too large", value=value))
    return number


def read_identity(value) -> tuple[str, str]:
    """A person's national code (10 digits) or an organisation's national id (11)."""
    text = to_latin_digits(cell_text(value)).strip()
    if len(text) == 11:
        return "national_id", check_legal_national_id(text)
    if 8 <= len(text) < 10 and text.isdigit():
        text = text.zfill(10)  # spreadsheets drop leading zeros
    return "national_code", national_code(text)


def _word(words: dict, what: str):
    def read(value) -> str:
        text = " ".join(normalize(cell_text(value)).split())
        for key, options in words.items():
            if text in {" ".join(normalize(o).split()) for o in options}:
                return key
        raise ValueError(_("%(value)s is not a %(what)s we know", value=value, what=what))
    return read


READERS = {
    "code": read_code, "customer_code": read_code, "name": _text(200),
    "national_id": read_identity, "economic_code": lambda v: check_economic_code(
        to_latin_digits(cell_text(v)).strip()),
    "mobile": lambda v: mobile(cell_text(v)), "city": _text(80), "balance": read_amount,
    "date": read_date, "document": read_code, "amount": read_amount, "invoice": read_code,
    "reference": _text(100), "number": read_code,
}


def reader(target: str):
    if target == "method":
        return _word(METHOD_WORDS, _("payment method"))
    if target == "type":
        return _word(TYPE_WORDS, _("document type"))
    return READERS[target]


def read_row(kind: str, line: int, cells: dict) -> Row:
    """``cells``: target → (column name, raw value). Empty cells are "not given"."""
    row = Row(line, columns={t: c for t, (c, _v) in cells.items()})
    names = labels(kind)
    for target, (_column, value) in cells.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            row.values[target] = reader(target)(value)
        except ValueError as exc:
            row.fail(target, f"{names[target]}: {exc}")
    for target in REQUIRED[kind]:
        if target not in row.values and not any(c == row.columns.get(target)
                                                for c, _m in row.errors):
            row.fail(target, _("%(field)s is empty.", field=names[target]))
    return row
