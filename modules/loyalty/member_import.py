"""Importing members from a CSV or XLSX file: one customer per row, by mobile or customer id,
with an optional referral code.

The file is read with the core import reader (``core.customers.import_parse``: encodings,
delimiters, Excel, a broken file named by line). Every row is checked and reported on its
own (enrolled, already a member, or why not); a dry run checks without enrolling anybody.
Only customers the user may see can be enrolled.
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from core.customers.import_parse import FileProblem, cell_text, open_table
from core.customers.models import ContactPoint
from core.customers.search import visible_customer
from core.extensions import db
from core.i18n import normalize, to_latin_digits
from core.validators import canonical_mobile
from modules.loyalty.members import by_referral_code, enrol, member_of

MAX_ROWS = 10_000
HEADERS = {
    "mobile": ("mobile", "phone", "cell", "موبایل", "تلفن همراه", "شماره همراه", "همراه"),
    "customer": ("customer_id", "customer", "id", "شناسه مشتری", "شناسه", "کد مشتری"),
    "referral": ("referral_code", "referral", "referrer", "کد معرف", "معرف"),
}


@dataclass
class RowResult:
    line: int
    status: str  # enrolled | member | error
    message: str
    customer_id: int | None = None
    value: str = ""  # the mobile or customer id the row gave


@dataclass
class ImportReport:
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    problem: str | None = None

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.status == "error"]


def _column_of(headers: list[str]) -> dict[str, int]:
    names = {kind: {normalize(n) for n in options} for kind, options in HEADERS.items()}
    found = {}
    for index, header in enumerate(headers):
        key = normalize(header).replace("-", "_")
        for kind, options in names.items():
            if kind not in found and (key in options or key.replace("_", " ") in options):
                found[kind] = index
    return found


def _customer_by_mobile(text: str):
    mobile = canonical_mobile(text)
    ids = db.session.execute(select(ContactPoint.customer_id).where(
        ContactPoint.kind == "mobile", ContactPoint.value == mobile)
        .order_by(ContactPoint.customer_id)).scalars().all()
    for customer_id in ids:
        customer = visible_customer(customer_id)
        if customer is not None:
            return customer
    return None


def _row(values: list, columns: dict[str, int], seen: set[int], dry_run: bool):
    """Check (and unless ``dry_run`` enrol) one row; returns (status, message, customer id)."""
    def cell(kind):
        return cell_text(values[columns[kind]]).strip() if kind in columns else ""

    ident, mobile, code = cell("customer"), cell("mobile"), cell("referral")
    if not ident and not mobile:
        return "error", _("Neither a mobile nor a customer id is given."), None
    customer = None
    if ident:
        latin = to_latin_digits(ident)
        if not latin.isdigit():
            return "error", _("%(value)s is not a customer id.", value=ident), None
        customer = visible_customer(int(latin))
        if customer is None:
            return "error", _("No customer you can see has the id %(value)s.",
                              value=ident), None
    else:
        try:
            customer = _customer_by_mobile(mobile)
        except ValueError:
            return "error", _("%(value)s is not a mobile number.", value=mobile), None
        if customer is None:
            return "error", _("No customer you can see has the mobile %(value)s.",
                              value=mobile), None
    if customer.id in seen:
        return "error", _("This customer is already on an earlier line of the file."), \
            customer.id
    seen.add(customer.id)
    if member_of(customer.id) is not None:
        return "member", _("Already a member."), customer.id
    referrer = None
    if code:
        referrer = by_referral_code(code)
        if referrer is None:
            return "error", _("There is no member with the referral code %(code)s.",
                              code=code), customer.id
        if referrer.customer_id == customer.id:
            return "error", _("A customer cannot refer themselves."), customer.id
    if not dry_run:
        enrol(customer, via="import", referred_by=referrer)
    return "enrolled", (_("Would be enrolled.") if dry_run else _("Enrolled.")), customer.id


def import_members(path: str | Path, *, dry_run: bool = False) -> ImportReport:
    """Enrol the customers named in the file (nothing on a dry run); the caller commits."""
    report = ImportReport(dry_run=dry_run)
    try:
        table = open_table(path)
        columns = _column_of(table.headers)
        if "mobile" not in columns and "customer" not in columns:
            raise FileProblem(_("The first line must name a mobile or a customer id column "
                                "(mobile, customer_id)."))
        seen: set[int] = set()
        for count, (line, values) in enumerate(table.rows(), start=1):
            if count > MAX_ROWS:
                raise FileProblem(_("The file has more than %(max)d rows; split it.",
                                    max=MAX_ROWS))
            status, message, customer_id = _row(values, columns, seen, dry_run)
            given = next((cell_text(values[columns[k]]).strip() for k in ("customer", "mobile")
                          if k in columns and cell_text(values[columns[k]]).strip()), "")
            report.rows.append(RowResult(line, status, message, customer_id, given))
        if not report.rows:
            raise FileProblem(_("The file has column names but no rows to import."))
    except FileProblem as exc:
        report.problem = exc.message
        report.rows = []
    return report


def import_upload(storage, *, dry_run: bool) -> ImportReport:
    """``import_members`` on an uploaded file (a werkzeug ``FileStorage``)."""
    suffix = Path(storage.filename or "").suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"members{suffix if suffix in ('.xlsx', '.csv') else '.csv'}"
        storage.save(path)
        return import_members(path, dry_run=dry_run)
