"""Importing a sales history (from a shop, a POS or the old accounting software) into purchases.

The file is CSV (UTF-8, BOM allowed) with a header row. Columns, in Persian or English:

- the customer, by one of ``customer_id``, ``mobile``, ``email`` or ``national_code``;
- ``date``: YYYY-MM-DD, Gregorian or Jalali (years before 1700 are Jalali), any digits;
- ``amount``: whole rials, any digits, thousands separators allowed; negative for a refund;
- ``reference`` (optional): the receipt or invoice number in the source system.

Each row is recorded once: its idempotency key is the reference when given, otherwise a hash
of the row, so importing the same file twice adds nothing. Rows that cannot be read are
rejected with their line number (the header is line 1) and the reason; the good ones are
recorded. A file without the needed columns, or that is not UTF-8 text, records nothing.
"""

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from flask_babel import gettext as _
from sqlalchemy import select

from core.analytics.models import Purchase
from core.analytics.services import PurchaseError, record_purchase
from core.analytics.summary import parse_date
from core.extensions import db
from core.i18n import normalize, parse_number

HEADERS = {
    "customer_id": ("customer_id", "customer", "شناسه مشتری", "کد مشتری"),
    "mobile": ("mobile", "موبایل", "تلفن همراه", "شماره موبایل"),
    "email": ("email", "ایمیل", "پست الکترونیک"),
    "national_code": ("national_code", "کد ملی"),
    "date": ("date", "تاریخ", "تاریخ خرید"),
    "amount": ("amount", "مبلغ", "مبلغ خرید"),
    "reference": ("reference", "شماره", "شماره فاکتور", "شماره رسید", "مرجع"),
}
CUSTOMER_COLUMNS = ("customer_id", "mobile", "email", "national_code")


class HistoryFileError(ValueError):
    """The file as a whole cannot be imported (nothing was recorded)."""


@dataclass
class HistoryResult:
    """What an import did: rows recorded, rows already there, rows rejected with reasons."""

    recorded: int = 0
    already: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _columns(header: list[str]) -> dict[str, int]:
    wanted = {normalize(alias): name for name, aliases in HEADERS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        name = wanted.get(normalize(title))
        if name and name not in found:
            found[name] = index
    missing = [n for n in ("date", "amount") if n not in found]
    if not any(n in found for n in CUSTOMER_COLUMNS):
        missing.insert(0, "customer_id / mobile / email / national_code")
    if missing:
        raise HistoryFileError(_("The file has no column for: %(names)s",
                                 names=", ".join(missing)))
    return found


def _customer_id(values: dict[str, str]) -> int:
    from core.customers.models import ContactPoint, Customer
    from core.validators import canonical_mobile, check_national_code

    if values.get("customer_id"):
        number = int(parse_number(values["customer_id"]))
        stmt = select(Customer.id).where(Customer.id == number)
    elif values.get("mobile"):
        stmt = select(ContactPoint.customer_id).where(
            ContactPoint.kind == "mobile", ContactPoint.value == canonical_mobile(values["mobile"]))
    elif values.get("email"):
        stmt = select(ContactPoint.customer_id).where(
            ContactPoint.kind == "email", ContactPoint.value == values["email"].strip().lower())
    elif values.get("national_code"):
        stmt = select(Customer.id).where(
            Customer.national_code == check_national_code(values["national_code"]))
    else:
        raise ValueError(_("The row names no customer."))
    found = db.session.execute(stmt.limit(1)).scalar()
    if found is None:
        raise ValueError(_("No customer matches this row; import the customers first."))
    return found


def _key(values: dict[str, str], customer_id: int, line: bytes | str) -> str:
    if values.get("reference"):
        return f"import:{values['reference'].strip()}"[:255]
    digest = hashlib.sha256(f"{customer_id}|{line}".encode()).hexdigest()[:40]
    return f"import:row:{digest}"


def check_file(lines: Iterable[str]) -> int:
    """Read the whole file once without writing: the number of data rows.

    Raises ``HistoryFileError`` when the file itself is broken (not UTF-8 text, not CSV,
    no header, missing columns), so that an import can refuse it before recording anything.
    """
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
        _columns(header)
        return sum(1 for row in reader if any(cell.strip() for cell in row))
    except StopIteration:
        raise HistoryFileError(_("The file is empty.")) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise HistoryFileError(_("Line %(line)d cannot be read: %(error)s",
                                 line=reader.line_num + 1, error=exc)) from None


def import_history(lines: Iterable[str], *, dry_run: bool = False,
                   on_progress: Callable[[int], None] | None = None,
                   every: int = 1000) -> HistoryResult:
    """Record every good row of a purchase CSV in the current transaction (the caller commits).

    With ``dry_run`` the rows are checked and counted and nothing is written. Call
    ``check_file`` first: this function assumes the file is readable. ``on_progress(n)`` is
    called after every ``every`` rows (it may commit: each row stands on its own).
    """
    reader = csv.reader(lines, strict=True)
    columns = _columns(next(reader))
    result = HistoryResult()
    keys: set[str] = set()
    pending = 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        pending += 1
        if on_progress is not None and pending == every:
            on_progress(pending)
            pending = 0
        values = {name: (row[i] if i < len(row) else "").strip() for name, i in columns.items()}
        try:
            customer_id = _customer_id(values)
            day = parse_date(values["date"])
            amount = int(parse_number(values["amount"]))
            key = _key(values, customer_id, ",".join(row))
            seen = key in keys or db.session.execute(
                select(Purchase.id).where(Purchase.idempotency_key == key)).scalar() is not None
            if not dry_run:
                record_purchase(customer_id, amount, datetime.combine(day, time(12), tzinfo=UTC),
                                "import", reference=values.get("reference", ""), key=key)
        except (ValueError, PurchaseError) as exc:
            result.rejected.append((reader.line_num, str(exc)))
            continue
        keys.add(key)
        if seen:
            result.already += 1
        else:
            result.recorded += 1
    if on_progress is not None and pending:
        on_progress(pending)
    return result
