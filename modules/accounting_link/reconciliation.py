"""Reconciliation: the CRM's posted invoices, credit notes and payments of a Jalali period
against the accounting side's document list.

The accounting side is either a file of its documents (number, date, amount, and optionally
the type; read with the import column mapping, kind ``documents``) or the settlements pulled
over REST (payments, by their reference). Documents are matched by type and number:

- an invoice is numbered as sales numbers it ("1404-12"), a credit note likewise with the
  prefix ``CN-`` ("CN-1404-3"), a payment by its reference (what the accounting side gave
  it, e.g. a settlement's tracking number) or ``PAY-<id>`` when it has none;
- without a type column, ``CN-`` and ``PAY-`` numbers say the type; any other is an invoice,
  or the one CRM document of another type with that number (a payment's reference).

The report lists the documents missing in accounting, missing in the CRM, and different
(amount or date), with the totals of each list.
"""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from core.i18n import to_latin_digits
from modules.sales import services as sales

CREDIT_PREFIX = "CN-"
PAYMENT_PREFIX = "PAY-"
INVOICE_PREFIX = "INV-"  # how some connectors write an invoice's number; dropped


@dataclass
class Document:
    kind: str  # invoice, credit_note, payment
    number: str
    date: date | None
    amount: int
    line: int | None = None  # the line of the accounting file
    id: int | None = None  # the CRM document's id
    typed: bool = True  # False: the type was guessed from the number

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.number


@dataclass
class Difference:
    crm: Document
    accounting: Document

    @property
    def amount_gap(self) -> int:
        return self.crm.amount - self.accounting.amount

    @property
    def what(self) -> list[str]:
        found = []
        if self.crm.amount != self.accounting.amount:
            found.append("amount")
        if self.crm.date != self.accounting.date:
            found.append("date")
        return found


@dataclass
class Report:
    start: date
    end: date
    matched: int = 0
    missing_in_accounting: list[Document] = field(default_factory=list)
    missing_in_crm: list[Document] = field(default_factory=list)
    different: list[Difference] = field(default_factory=list)
    crm_total: int = 0
    accounting_total: int = 0

    @property
    def missing_in_accounting_total(self) -> int:
        return sum(d.amount for d in self.missing_in_accounting)

    @property
    def missing_in_crm_total(self) -> int:
        return sum(d.amount for d in self.missing_in_crm)

    @property
    def different_total(self) -> int:
        return sum(d.amount_gap for d in self.different)

    @property
    def clean(self) -> bool:
        return not (self.missing_in_accounting or self.missing_in_crm or self.different)


def clean_number(text) -> str:
    """A document number as compared: Latin digits, no spaces, "/" as "-", upper case."""
    return "".join(to_latin_digits(str(text or "")).split()).replace("/", "-").upper()


def kind_of(number: str) -> str:
    if number.startswith(CREDIT_PREFIX):
        return "credit_note"
    if number.startswith(PAYMENT_PREFIX):
        return "payment"
    return "invoice"


def _bare(kind: str, number: str) -> str:
    prefix = {"credit_note": CREDIT_PREFIX, "payment": PAYMENT_PREFIX}.get(kind)
    return number[len(prefix):] if prefix and number.startswith(prefix) else number


def crm_number(row: dict) -> str:
    """The number a CRM document is compared by (see the module docstring)."""
    if row["kind"] == "payment":
        return clean_number(row["number"]) or f"{PAYMENT_PREFIX}{row['id']}"
    number = clean_number(row["number"])
    return f"{CREDIT_PREFIX}{number}" if row["kind"] == "credit_note" else number


def crm_documents(start: date, end: date) -> list[Document]:
    """The CRM's posted invoices and credit notes and its payments (not bounced) in the
    period."""
    return [Document(row["kind"], crm_number(row), row["date"], row["amount"], id=row["id"])
            for row in sales.documents_between(start, end)
            if not (row["kind"] == "payment" and row["status"] == "bounced")]


def accounting_documents(rows) -> list[Document]:
    """The accounting side's documents from checked ``documents`` rows (``import_fields``)."""
    found = []
    for row in rows:
        number = clean_number(row.values["number"]).removeprefix(INVOICE_PREFIX)
        typed = "type" in row.values
        kind = row.values["type"] if typed else kind_of(number)
        number = _bare(kind, number)
        if kind == "credit_note":
            number = f"{CREDIT_PREFIX}{number}"
        elif kind == "payment" and not number.startswith(PAYMENT_PREFIX) \
                and number.isdigit():
            number = f"{PAYMENT_PREFIX}{number}"
        found.append(Document(kind, number, row.values["date"], abs(row.values["amount"]),
                              line=row.line, typed=typed))
    return found


def settlement_documents(rows) -> list[Document]:
    """Settlements (checked ``settlements`` rows, e.g. pulled over REST) as payments, by
    their reference."""
    return [Document("payment", clean_number(row.values["reference"]), row.values["date"],
                     row.values["amount"], line=row.line) for row in rows if not row.errors]


def reconcile(start: date, end: date, accounting: list[Document]) -> Report:
    """Compare the CRM's documents of ``start``..``end`` with ``accounting``'s of the same
    period (accounting documents dated outside it are left out)."""
    if end < start:
        raise ValueError(_("The period ends before it starts."))
    report = Report(start, end)
    crm = {d.key: d for d in crm_documents(start, end)}
    by_number: dict = {}
    for key in crm:
        by_number.setdefault(key[1], []).append(key)
    theirs: dict = {}
    for document in accounting:
        if document.key not in crm and not document.typed \
                and len(by_number.get(document.number, ())) == 1:
            document.kind = by_number[document.number][0][0]  # e.g. a payment's reference
        if document.date is not None and not (start <= document.date <= end):
            if document.key not in crm:
                continue  # another period's document
        theirs.setdefault(document.key, document)
    report.crm_total = sum(d.amount for d in crm.values())
    report.accounting_total = sum(d.amount for d in theirs.values())
    for key, document in crm.items():
        other = theirs.get(key)
        if other is None:
            report.missing_in_accounting.append(document)
        elif other.amount != document.amount or other.date != document.date:
            report.different.append(Difference(document, other))
        else:
            report.matched += 1
    report.missing_in_crm = [d for key, d in theirs.items() if key not in crm]
    return report


def kind_label(kind: str) -> str:
    return {"invoice": _("Invoice"), "credit_note": _("Credit note"),
            "payment": _("Payment")}.get(kind, kind)


def csv_rows(report: Report) -> list[list]:
    """The report as CSV rows (header first): list, type, number, dates, amounts, gap."""
    rows = [[_("List"), _("Type"), _("Number"), _("CRM date"), _("Accounting date"),
             _("CRM amount"), _("Accounting amount"), _("Difference")]]
    for d in report.missing_in_accounting:
        rows.append([_("Missing in accounting"), kind_label(d.kind), d.number, _iso(d.date), "",
                     d.amount, "", d.amount])
    for d in report.missing_in_crm:
        rows.append([_("Missing in the CRM"), kind_label(d.kind), d.number, "", _iso(d.date),
                     "", d.amount, -d.amount])
    for diff in report.different:
        rows.append([_("Different"), kind_label(diff.crm.kind), diff.crm.number,
                     _iso(diff.crm.date), _iso(diff.accounting.date), diff.crm.amount,
                     diff.accounting.amount, diff.amount_gap])
    return rows


def _iso(day: date | None) -> str:
    if day is None:
        return ""
    import jdatetime

    return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")
