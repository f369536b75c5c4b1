"""What each import does with its checked rows: ``plan`` resolves every row against the
database without writing (adding row errors), ``apply`` writes the plan in the current
transaction. The caller writes nothing unless every row of the file is good.

- customers: the accounting code is an external key (``CustomerLink``); a code seen before
  updates its customer, else a customer with the same mobile or national code is linked,
  else a new customer is created (through ``core.customers.services``). Only empty fields
  of an existing customer are filled; the balance is kept on the link.
- sales: each document is a purchase with the key ``accounting:<number>``, announced with
  ``purchase_recorded`` (source "import"), so RFM and CLV count it and a second import of
  the same file adds nothing.
- settlements: each is a sales payment allocated to the invoice it names (our numbering),
  applied once by its reference.
"""

from datetime import UTC, datetime, time

from flask_babel import gettext as _
from sqlalchemy import select

from core.analytics.models import Purchase
from core.customers.models import Customer
from core.customers.services import create_customer, find_duplicates_for, update_customer
from core.database import utcnow
from core.events import emit, purchase_recorded
from core.extensions import db
from core.i18n import digits, local_date
from core.money import format_money
from modules.accounting_link.models.imports import CustomerLink, Settlement
from modules.sales import services as sales


class RowFailed(Exception):
    """Writing a row failed (the whole import is rolled back); says which and why."""

    def __init__(self, row, target: str, message: str):
        self.row, self.target, self.message = row, target, message
        super().__init__(message)


def _first_lines(rows, target: str) -> dict:
    """Rows whose ``target`` value repeats an earlier row's get an error; the first stay."""
    seen: dict = {}
    for row in rows:
        value = row.values.get(target)
        if value is None or row.errors:
            continue
        if value in seen:
            row.fail(target, _("%(value)s is already on line %(line)s of this file.",
                               value=value, line=digits(seen[value].line)))
        else:
            seen[value] = row
    return seen


# --- customers -----------------------------------------------------------------------------

def plan_customers(rows) -> list:
    by_code = _first_lines(rows, "code")
    links = {link.code: link for link in db.session.execute(
        select(CustomerLink).where(CustomerLink.code.in_(list(by_code)))).scalars()} \
        if by_code else {}
    plan = []
    for row in rows:
        if row.errors:
            continue
        values = row.values
        link = links.get(values["code"])
        customer = db.session.get(Customer, link.customer_id) if link else None
        if customer is None:
            identity = values.get("national_id", ("", ""))
            found = find_duplicates_for(
                mobile=values.get("mobile"),
                national_code=identity[1] if identity[0] == "national_code" else None)
            if len(found) > 1:
                row.fail("mobile", _("matches more than one customer %(ids)s; merge them "
                                     "first", ids=" ".join(f"#{c.id}" for c in found)))
                continue
            customer = found[0] if found else None
        if customer is None and not values.get("name"):
            row.fail("name", _("Give the customer's name: there is no customer with this "
                               "code, mobile or national code yet."))
            continue
        changes = _customer_changes(customer, values) if customer else {}
        fresh_link = link is None or link.customer_id != getattr(customer, "id", None)
        balance_changed = "balance" in values and (link is None
                                                   or link.balance != values["balance"])
        outcome = ("created" if customer is None else
                   "updated" if changes or fresh_link or balance_changed else "unchanged")
        plan.append((row, outcome, customer, link, changes))
    return plan


def _customer_changes(customer: Customer, values: dict) -> dict:
    """The fields of an existing customer the row fills (empty ones only)."""
    changes = {}
    kind, code = values.get("national_id", ("", ""))
    if kind and not getattr(customer, kind):
        changes[kind] = code
    if values.get("economic_code") and not customer.economic_code:
        changes["economic_code"] = values["economic_code"]
    mobiles = [c.value for c in customer.contacts if c.kind == "mobile"]
    if values.get("mobile") and values["mobile"] not in mobiles:
        changes["mobiles"] = [*mobiles, values["mobile"]]
    if values.get("city") and not any(a.city for a in customer.addresses):
        first = customer.addresses[0] if customer.addresses else None
        changes["address"] = {"province": getattr(first, "province", ""),
                              "line": getattr(first, "line", ""),
                              "postal_code": getattr(first, "postal_code", None),
                              "city": values["city"]}
    return changes


def _new_customer_fields(values: dict) -> dict:
    kind, code = values.get("national_id", ("", ""))
    organisation = kind == "national_id"
    fields = {"kind": "organisation" if organisation else "person",
              "source": _("Accounting")}
    if organisation:
        fields["legal_name"] = values["name"]
    else:
        fields["display_name"] = values["name"]
    if kind:
        fields[kind] = code
    if values.get("economic_code"):
        fields["economic_code"] = values["economic_code"]
    if values.get("mobile"):
        fields["mobiles"] = [values["mobile"]]
    if values.get("city"):
        fields["address"] = {"city": values["city"]}
    return fields


def apply_customers(plan, by=None, source: str = "file") -> None:
    for row, _outcome, customer, link, changes in plan:
        values = row.values
        try:
            if customer is None:
                customer = create_customer(by=by, **_new_customer_fields(values))
            elif changes:
                update_customer(customer, **changes)
        except ValueError as exc:
            raise RowFailed(row, "name", str(exc)) from exc
        if link is None:
            link = CustomerLink(code=values["code"], customer_id=customer.id)
            db.session.add(link)
        link.customer_id = customer.id
        if "balance" in values:
            link.balance = values["balance"]
        link.imported_at = utcnow()
    db.session.flush()


# --- past sales ----------------------------------------------------------------------------

def _occurred_at(day) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


def plan_sales(rows) -> list:
    _first_lines(rows, "document")
    codes = {r.values["customer_code"] for r in rows if not r.errors}
    links = dict(db.session.execute(select(CustomerLink.code, CustomerLink.customer_id)
                                    .where(CustomerLink.code.in_(list(codes)))).all()) \
        if codes else {}
    keys = [f"accounting:{r.values['document']}" for r in rows if not r.errors]
    existing = {p.idempotency_key: p for p in db.session.execute(
        select(Purchase).where(Purchase.idempotency_key.in_(keys))).scalars()} if keys else {}
    plan = []
    for row in rows:
        if row.errors:
            continue
        values = row.values
        customer_id = links.get(values["customer_code"])
        if customer_id is None:
            row.fail("customer_code", _("No customer has the accounting code %(code)s; "
                                        "import the customers first.",
                                        code=values["customer_code"]))
            continue
        if values["amount"] == 0:
            row.fail("amount", _("The amount is zero."))
            continue
        key = f"accounting:{values['document']}"
        found = existing.get(key)
        if found is not None:
            same = (found.customer_id == customer_id and found.amount == values["amount"]
                    and local_date(found.occurred_at) == values["date"])
            if not same:
                row.fail("document", _("Document %(number)s was imported before with another "
                                       "customer, date or amount.", number=values["document"]))
                continue
        plan.append((row, "unchanged" if found else "created", customer_id, key))
    return plan


def apply_sales(plan, by=None, source: str = "file") -> None:
    for row, outcome, customer_id, key in plan:
        if outcome == "unchanged":
            continue
        try:
            emit(purchase_recorded, customer_id=customer_id, amount=row.values["amount"],
                 occurred_at=_occurred_at(row.values["date"]), source="import",
                 reference=row.values["document"], key=key)
        except ValueError as exc:
            raise RowFailed(row, "document", str(exc)) from exc
    db.session.flush()


# --- payment settlements -------------------------------------------------------------------

def plan_settlements(rows) -> list:
    _first_lines(rows, "reference")
    references = [r.values["reference"] for r in rows if not r.errors]
    applied = set(db.session.execute(select(Settlement.reference).where(
        Settlement.reference.in_(references))).scalars()) if references else set()
    owed: dict[int, int] = {}
    today = local_date(utcnow())
    plan = []
    for row in rows:
        if row.errors:
            continue
        values = row.values
        if values["reference"] in applied:
            plan.append((row, "unchanged", None))
            continue
        invoice = sales.posted_invoice_by_reference(
            values["invoice"].upper().removeprefix("INV-"))
        if invoice is None:
            row.fail("invoice", _("No posted invoice is numbered %(number)s.",
                                  number=digits(values["invoice"])))
            continue
        method = values.get("method", "transfer")
        if method == "cheque":
            row.fail("method", _("A cheque is recorded in sales with its Sayad number; "
                                 "settle cheques there."))
            continue
        if values["amount"] <= 0:
            row.fail("amount", _("A settlement is more than zero."))
            continue
        if values["date"] > today:
            row.fail("date", _("A payment cannot be received in the future."))
            continue
        left = owed.setdefault(invoice.id, sales.invoice_owed(invoice))
        if values["amount"] > left:
            row.fail("amount", _("Only %(owed)s is still owed on invoice %(number)s.",
                                 owed=format_money(left), number=digits(invoice.reference)))
            continue
        owed[invoice.id] = left - values["amount"]
        plan.append((row, "created", invoice))
    return plan


def apply_settlements(plan, by=None, source: str = "file") -> None:
    for row, outcome, invoice in plan:
        if outcome == "unchanged":
            continue
        values = row.values
        method = values.get("method", "transfer")
        try:
            payment = sales.settle_invoice(
                invoice, amount=values["amount"], method=method, received_on=values["date"],
                reference=values["reference"], by=by,
                note=_("Settled in the accounting package (reference %(reference)s)",
                       reference=values["reference"]))
        except ValueError as exc:
            raise RowFailed(row, "amount", str(exc)) from exc
        db.session.add(Settlement(
            reference=values["reference"], invoice_number=invoice.reference,
            invoice_id=invoice.id, payment_id=payment.id, amount=values["amount"],
            paid_on=values["date"], method=method, source=source))
    db.session.flush()


HANDLERS = {"customers": (plan_customers, apply_customers),
            "sales": (plan_sales, apply_sales),
            "settlements": (plan_settlements, apply_settlements)}
