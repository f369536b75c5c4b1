"""Payments: record money received (cash, card, transfer or cheque), allocate it to invoices,
and follow a cheque from received to deposited to cleared — or bounced, which re-opens what
it paid.

Recording emits ``core.events.payment_recorded`` with ``payment``, ``payment_id``,
``customer_id``, ``amount`` (rials), ``method``, ``status``, ``occurred_at`` and ``key``; a
bounced cheque emits it again with the negative amount, ``status="bounced"`` and its own
key, so a ledger can reverse it. Functions take plain arguments; the caller commits.
"""

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from core.database import lock, utcnow
from core.events import cheque_status_changed, emit, payment_recorded
from core.extensions import db
from core.i18n import digits, to_latin_digits
from modules.sales import receivables
from modules.sales.lines import DocumentError, _money
from modules.sales.models.documents import Invoice
from modules.sales.models.payments import (
    CHEQUE_FLOW,
    CHEQUE_STATUSES,
    METHODS,
    Payment,
    PaymentAllocation,
)
from modules.sales.quotes import today

MAX_AMOUNT = 10**17


class PaymentError(DocumentError):
    """A payment cannot be recorded or changed; ``errors`` says why per field."""


def check_sayad(value) -> str:
    """A Sayad cheque id (شناسه صیاد): 16 digits, any script, spaces and dashes allowed."""
    text = re.sub(r"[\s\-\u200c]", "", to_latin_digits(str(value or "")))
    if not re.fullmatch(r"\d{16}", text):
        raise ValueError(_("%(value)s is not a Sayad number: it has 16 digits",
                           value=value))
    return text


def cheque_errors(sayad_number, bank, due_date) -> dict[str, str]:
    """What a cheque is missing or has wrong, by field."""
    errors = {}
    try:
        check_sayad(sayad_number)
    except ValueError as exc:
        errors["sayad_number"] = str(exc)
    if not " ".join((bank or "").split()):
        errors["bank"] = _("Name the bank the cheque is drawn on.")
    if due_date is None:
        errors["cheque_due_date"] = _("Give the date written on the cheque.")
    return errors


def method_label(method: str) -> str:
    return {"cash": _("Cash"), "card": _("Card"), "transfer": _("Bank transfer"),
            "cheque": _("Cheque")}.get(method, method)


def status_label(status: str) -> str:
    return {"received": _("Received"), "deposited": _("Deposited"), "cleared": _("Cleared"),
            "bounced": _("Bounced")}.get(status, status)


def _lock_customer(customer_id: int) -> None:
    """Allocations to one customer's invoices happen one at a time (no over-allocation)."""
    lock(f"sales.receivable:{customer_id}")


def _allocations(customer_id: int, amount: int, wanted, errors: dict) -> list[tuple[Invoice, int]]:
    """Check the requested allocations, or spread ``amount`` over the oldest open invoices."""
    open_now = receivables.open_invoices(customer_id)
    if wanted is None:
        result, left = [], amount
        for invoice, owed in open_now:
            if left <= 0:
                break
            part = min(owed, left)
            result.append((invoice, part))
            left -= part
        return result
    owed_by_id = {invoice.id: owed for invoice, owed in open_now}
    result, total = [], 0
    for i, (invoice, part) in enumerate(wanted):
        key = f"allocations-{i}"
        if invoice is None or invoice.customer_id != customer_id:
            errors[key] = _("This invoice is not the customer's.")
            continue
        if invoice.kind != "invoice" or not invoice.posted:
            errors[key] = _("Payments settle posted invoices only.")
            continue
        part = _money(part, key, errors)
        if part is None or part == 0:
            errors.setdefault(key, _("Give the amount that settles this invoice."))
            continue
        if part > owed_by_id.get(invoice.id, 0):
            errors[key] = _("Only %(owed)s is still owed on invoice %(ref)s.",
                            owed=_format(owed_by_id.get(invoice.id, 0)),
                            ref=digits(invoice.reference))
            continue
        total += part
        result.append((invoice, part))
    if total > amount:
        errors["allocations"] = _("The allocations add up to more than the payment.")
    return result


def _format(amount: int) -> str:
    from core.money import format_money

    return format_money(amount)


def record_payment(customer, *, amount, method: str, by=None, received_on: date | None = None,
                   reference: str = "", note: str = "", sayad_number=None, bank: str = "",
                   cheque_due_date: date | None = None, allocations=None) -> Payment:
    """Record a payment and allocate it: to ``allocations`` ([(invoice, rials)]) when given,
    else to the customer's oldest open invoices. What is left stays as a credit."""
    _lock_customer(customer.id)
    errors: dict[str, str] = {}
    value = _money(amount, "amount", errors)
    if value is not None and value == 0:
        errors["amount"] = _("A payment is more than zero.")
    elif value is not None and value >= MAX_AMOUNT:
        errors["amount"] = _("This amount is too large.")
    if method not in METHODS:
        errors["method"] = _("Choose how it was paid: cash, card, transfer or cheque.")
    received_on = received_on or today()
    if received_on > today():
        errors["received_on"] = _("A payment cannot be received in the future.")
    payment = Payment(customer_id=customer.id, owner_id=customer.owner_id,
                      team_id=customer.team_id, method=method, amount=value or 0,
                      received_on=received_on, reference=(reference or "").strip()[:100],
                      note=(note or "").strip(), created_by_id=getattr(by, "id", None),
                      status="cleared", bank="")
    if method == "cheque":
        errors.update(cheque_errors(sayad_number, bank, cheque_due_date))
        if "sayad_number" not in errors:
            payment.sayad_number = check_sayad(sayad_number)
        payment.bank = " ".join((bank or "").split())[:80]
        payment.cheque_due_date = cheque_due_date
        payment.status = "received"
    parts = _allocations(customer.id, value or 0, allocations, errors) if not errors else []
    if errors:
        raise PaymentError(errors)
    payment.status_changed_at = utcnow()
    payment.allocations = [PaymentAllocation(invoice_id=invoice.id, amount=part)
                           for invoice, part in parts]
    db.session.add(payment)
    db.session.flush()
    _announce(payment, payment.amount, f"sales.payment:{payment.id}")
    return payment


def _announce(payment: Payment, amount: int, key: str) -> None:
    emit(payment_recorded, payment=payment, payment_id=payment.id,
         customer_id=payment.customer_id, amount=amount, method=payment.method,
         status=payment.status, occurred_at=payment.status_changed_at or utcnow(), key=key)


def set_cheque_status(payment: Payment, status: str, *, by=None) -> Payment:
    """Move a cheque along received → deposited → cleared, or to bounced."""
    if payment.method != "cheque":
        raise PaymentError(_("Only cheques change status; this payment was %(method)s.",
                             method=method_label(payment.method)))
    if status not in CHEQUE_STATUSES:
        raise PaymentError(_("Unknown cheque status %(status)s.", status=status))
    if status not in CHEQUE_FLOW[payment.status]:
        raise PaymentError(_("A cheque that is %(now)s cannot become %(next)s.",
                             now=status_label(payment.status), next=status_label(status)))
    _lock_customer(payment.customer_id)
    old_status, payment.status = payment.status, status
    payment.status_changed_at = utcnow()
    db.session.flush()
    emit(cheque_status_changed, payment=payment, payment_id=payment.id,
         customer_id=payment.customer_id, amount=payment.amount, old_status=old_status,
         status=status, occurred_at=payment.status_changed_at,
         key=f"sales.payment:{payment.id}:{status}")
    if status == "bounced":
        _announce(payment, -payment.amount, f"sales.payment:{payment.id}:bounced")
    return payment


def allocate_credit(payment: Payment, invoice: Invoice, amount) -> PaymentAllocation:
    """Use part of a payment's unallocated credit to settle a (later) invoice."""
    _lock_customer(payment.customer_id)
    if not payment.counts:
        raise PaymentError(_("A bounced cheque settles nothing."))
    errors: dict[str, str] = {}
    parts = _allocations(payment.customer_id, payment.unallocated, [(invoice, amount)], errors)
    if errors:
        raise PaymentError(errors)
    [(invoice, part)] = parts
    existing = db.session.execute(select(PaymentAllocation).where(
        PaymentAllocation.payment_id == payment.id,
        PaymentAllocation.invoice_id == invoice.id)).scalar()
    if existing is not None:
        existing.amount += part
    else:
        existing = PaymentAllocation(payment=payment, invoice_id=invoice.id, amount=part)
        db.session.add(existing)
    db.session.flush()
    return existing
