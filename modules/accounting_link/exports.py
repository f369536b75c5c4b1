"""The journal of a period as files: CSV and XLSX for accounting packages, and beancount.

``export_csv(start, end)``, ``export_xlsx(start, end)`` and ``export_beancount(start, end)``
take Tehran dates (the journal's ``entry_date``; the UI asks for them in Jalali) and include
both ends: every entry dated ``start <= entry_date <= end``.

CSV and XLSX layout
    One row per journal line, in entry order (fiscal year, then the entry's gapless number,
    then the line's position), with these columns, always in this order:

    ==  ==================  ==========================================================
    #   CSV header          content
    ==  ==================  ==========================================================
    1   fiscal_year         Jalali fiscal year the entry is numbered in: 1404
    2   entry_number        the entry's number in that year (gapless): 17
    3   date_jalali         the entry's date in Jalali: 1404/07/15
    4   date_gregorian      the same date in Gregorian: 2025-10-07
    5   account_code        the account's code in the chart: 1104
    6   account_name        the account's name: حساب‌های دریافتنی تجاری
    7   debit               rials, a whole number (0 on a credit line)
    8   credit              rials, a whole number (0 on a debit line)
    9   description         the line's memo, or else the entry's description
    10  reference           the document's number (invoice 1404-12, a cheque's Sayad no.)
    11  document_type       where the entry comes from: sales.invoice, sales.payment,
                            loyalty.entry ...
    12  document_id         that document's id in the CRM
    13  customer_code       the customer's code in the CRM (its id), empty without one
    14  entry_kind          invoice, credit_note, payment, cheque, points_issued,
                            points_redeemed, points_expired, points_reversed, reversal
    ==  ==================  ==========================================================

    Digits are Latin and numbers carry no thousands separators, so Sepidar, Hamkaran (Rahkaran)
    and similar packages can map the columns on import by position (an entry is the group of
    rows sharing columns 1-2; a voucher's debits equal its credits). The CSV is UTF-8 with a
    byte order mark, so Excel shows Persian text correctly; its header row is the fixed names
    above in every language, so an import mapping saved once keeps working. The XLSX has the
    same columns with the header in the user's language, a right-to-left sheet in Persian,
    numbers as numbers and the Gregorian date as a date.

Beancount
    ``option "operating_currency" "IRR"``, an ``open`` directive (dated the first day of the
    period) for every account the period uses, named from its kind and code (``Assets:A1104``,
    ``Liabilities:A2105``, ``Income:A4101``, ``Expenses:A6105``, ``Equity:...``) with the
    Persian name and the code in metadata, and one transaction per entry whose postings are its
    lines in ``IRR`` (debits positive, credits negative). A transaction is written only when
    its postings sum to zero (``ExportError`` otherwise), so the file balances by construction;
    ``bean-check`` accepts it.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.i18n import digits, fiscal_year_range, jdate, strip_bidi, to_latin_digits
from modules.accounting_link.models.journal import (
    Account,
    FiscalYear,
    JournalEntry,
    JournalLine,
)

COLUMNS = ("fiscal_year", "entry_number", "date_jalali", "date_gregorian", "account_code",
           "account_name", "debit", "credit", "description", "reference", "document_type",
           "document_id", "customer_code", "entry_kind")
FORMATS = ("csv", "xlsx", "beancount")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MIMETYPE,
             "beancount": "text/plain; charset=utf-8"}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "beancount": "beancount"}
BEANCOUNT_ROOTS = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity",
                   "income": "Income", "expense": "Expenses"}
BATCH = 2000


class ExportError(ValueError):
    """A file cannot be written as asked (a wrong period, an entry that does not balance)."""


def column_labels() -> list[str]:
    """The column headers in the current language (the XLSX header row)."""
    return [_("Fiscal year"), _("Entry number"), _("Date (Jalali)"), _("Date (Gregorian)"),
            _("Account code"), _("Account name"), _("Debit"), _("Credit"), _("Description"),
            _("Reference"), _("Document type"), _("Document id"), _("Customer code"),
            _("Entry kind")]


def check_period(start: date, end: date) -> None:
    if start is None or end is None:
        raise ExportError(_("Choose the first and the last day of the period."))
    if end < start:
        raise ExportError(_("The period ends before it starts."))


def fiscal_year_period(year: int) -> tuple[date, date]:
    """The first and the last day of a Jalali fiscal year (its row when there is one)."""
    row = db.session.execute(select(FiscalYear).where(FiscalYear.year == year)).scalar()
    if row is not None:
        return row.starts_on, row.ends_on
    first, next_first = fiscal_year_range(year)
    return first, next_first - timedelta(days=1)


def customer_code(customer_id: int | None) -> str:
    """The customer's code in the files: its CRM id (empty for an entry without a customer)."""
    return "" if customer_id is None else str(customer_id)


def _entries(start: date, end: date) -> Iterator[JournalEntry]:
    """The period's entries with their lines and accounts, in entry order, in batches."""
    check_period(start, end)
    ids = list(db.session.execute(
        select(JournalEntry.id).where(JournalEntry.entry_date >= start,
                                      JournalEntry.entry_date <= end)
        .order_by(JournalEntry.fiscal_year, JournalEntry.number)).scalars())
    for first in range(0, len(ids), BATCH):
        chunk = ids[first:first + BATCH]
        loaded = {e.id: e for e in db.session.execute(
            select(JournalEntry).where(JournalEntry.id.in_(chunk))).scalars()}
        for ident in chunk:
            yield loaded[ident]


def _row(entry: JournalEntry, line: JournalLine) -> list:
    return [entry.fiscal_year, entry.number, jdate(entry.entry_date, locale="en"),
            entry.entry_date, line.account.code, line.account.name, int(line.debit or 0),
            int(line.credit or 0), strip_bidi(line.memo or entry.description),
            to_latin_digits(entry.reference or ""), entry.source_type,
            "" if entry.source_id is None else entry.source_id,
            customer_code(entry.customer_id), entry.kind]


def journal_rows(start: date, end: date) -> Iterator[list]:
    """One list per journal line of the period, in the documented column order."""
    for entry in _entries(start, end):
        for line in entry.lines:
            yield _row(entry, line)


def export_csv(start: date, end: date) -> bytes:
    """The period's journal lines as CSV (UTF-8 with a BOM; see the module docstring)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in journal_rows(start, end):
        row[3] = row[3].isoformat()
        writer.writerow(row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx(start: date, end: date, *, rtl: bool | None = None) -> bytes:
    """The period's journal lines as an Excel workbook, headers in the user's language."""
    from openpyxl import Workbook

    from core.i18n import is_rtl

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Journal"))
    sheet.sheet_view.rightToLeft = is_rtl() if rtl is None else rtl
    for letter, width in zip("ABCDEFGHIJKLMN", (8, 8, 12, 12, 12, 32, 14, 14, 40, 14, 16, 10,
                                                10, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append(column_labels())
    for row in journal_rows(start, end):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- beancount -----------------------------------------------------------------------------

@dataclass
class _Names:
    """Beancount account names, unique per account even when two codes clean to the same."""

    by_id: dict[int, str]

    def of(self, account: Account) -> str:
        name = self.by_id.get(account.id)
        if name is None:
            name = beancount_account(account)
            if name in self.by_id.values():
                name = f"{name}-{account.id}"
            self.by_id[account.id] = name
        return name


def beancount_account(account: Account) -> str:
    """``Assets:A1104``: the root of the account's kind and its code (letters, digits, -)."""
    root = BEANCOUNT_ROOTS.get(account.kind)
    if root is None:
        raise ExportError(_("Account %(code)s has no kind beancount knows (%(kind)s).",
                            code=account.code, kind=account.kind))
    code = re.sub(r"[^A-Za-z0-9-]+", "-", to_latin_digits(account.code or "")).strip("-")
    return f"{root}:A{code or account.id}"


def _quoted(text) -> str:
    clean = " ".join(strip_bidi(text).split())
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def beancount_transaction(entry: JournalEntry, names: _Names) -> str:
    """One entry as a beancount transaction; ``ExportError`` when its lines do not balance."""
    debits = sum(int(line.debit or 0) for line in entry.lines)
    credits = sum(int(line.credit or 0) for line in entry.lines)
    if not entry.lines or debits != credits:
        raise ExportError(_("Entry %(ref)s does not balance (debits %(debits)s, credits "
                            "%(credits)s); nothing was exported.",
                            ref=digits(entry.reference_label),
                            debits=debits, credits=credits))
    meta = {"entry": entry.reference_label, "jalali": jdate(entry.entry_date, locale="en"),
            "kind": entry.kind, "source": f"{entry.source_type}:{entry.source_id or ''}"}
    if entry.reference:
        meta["reference"] = to_latin_digits(entry.reference)
    if entry.customer_id is not None:
        meta["customer"] = customer_code(entry.customer_id)
    out = [f"{entry.entry_date.isoformat()} * {_quoted(entry.description)}"]
    out += [f"  {key}: {_quoted(value)}" for key, value in meta.items()]
    for line in entry.lines:
        amount = int(line.debit or 0) - int(line.credit or 0)
        out.append(f"  {names.of(line.account):<40} {amount} IRR")
        if line.memo:
            out.append(f"    memo: {_quoted(line.memo)}")
    return "\n".join(out)


def export_beancount(start: date, end: date) -> str:
    """The period's journal as a beancount ledger that ``bean-check`` accepts."""
    names = _Names({})
    transactions = [beancount_transaction(entry, names) for entry in _entries(start, end)]
    accounts = {a.id: a for a in db.session.execute(
        select(Account).where(Account.id.in_(list(names.by_id)))).scalars()}
    first, last = jdate(start, locale="en"), jdate(end, locale="en")
    title = _("Journal %(first)s to %(last)s", first=first, last=last)
    head = (f"; Peyvand CRM journal {first} - {last} ({start.isoformat()} - {end.isoformat()})\n"
            f"option \"title\" {_quoted(title)}\n"
            'option "operating_currency" "IRR"\n')
    opens = []
    for account_id, name in sorted(names.by_id.items(), key=lambda item: item[1]):
        account = accounts[account_id]
        opens.append(f"{start.isoformat()} open {name} IRR\n  code: {_quoted(account.code)}\n"
                     f"  name: {_quoted(account.name)}")
    return "\n".join([head, *(f"{block}\n" for block in [*opens, *transactions])])


# --- wiring --------------------------------------------------------------------------------

def export(fmt: str, start: date, end: date) -> bytes:
    """The file of one format as bytes (what the download and the API send)."""
    if fmt == "csv":
        return export_csv(start, end)
    if fmt == "xlsx":
        return export_xlsx(start, end)
    if fmt == "beancount":
        return export_beancount(start, end).encode("utf-8")
    raise ExportError(_("%(format)s is not an export format.", format=fmt))


def filename(fmt: str, start: date, end: date) -> str:
    """``journal-14040101-14041229.csv``: the Jalali period in the name."""
    first = jdate(start, locale="en").replace("/", "")
    last = jdate(end, locale="en").replace("/", "")
    return f"journal-{first}-{last}.{EXTENSIONS[fmt]}"


def register(app) -> None:
    """Nothing to wire: the download page is in ``views/exports.py``, the API calls
    ``export``."""
