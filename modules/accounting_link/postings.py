"""Journal entries from sales and loyalty events, in the transaction of the event.

Posting rules (roles are mapped to accounts at ``/accounting/mapping``; amounts in rials):

==================  =============================  ========================  =================
event               key                            debit                     credit
==================  =============================  ========================  =================
invoice             ``sales.invoice:<id>``         receivables (total);      ``revenue:<cat>``
                                                   discounts (line + doc)    (gross of its
                                                                             lines); vat_payable
credit note         ``sales.invoice:<id>``         ``revenue:<cat>``;        receivables;
                                                   vat_payable               discounts
cash/card/transfer  ``sales.payment:<id>``         ``bank:<method>``         receivables
cheque received     ``sales.payment:<id>``         cheques_in_hand           receivables
cheque deposited    —                              no entry
cheque cleared      ``sales.payment:<id>:cleared`` bank:cheque               cheques_in_hand
cheque bounced      ``sales.payment:<id>:bounced`` receivables               cheques_in_hand
points earned       ``loyalty.entry:<id>``         points_expense (value)    points_liability
(earn, adjust +)
points redeemed     ``loyalty.entry:<id>``         points_liability          discounts
(redeem, adjust −)
points expired      ``loyalty.entry:<id>``         points_liability          points_breakage
points reversed     ``loyalty.entry:<id>``         points_liability          points_expense
(refund)
points released     —                              no entry (pending → available)
==================  =============================  ========================  =================

``<cat>`` is the sales category of each line's product (``revenue`` for a line without one).
Points are valued at the club's point value when they change (``value`` of the event).

Each entry carries the customer, a reference (the invoice number as sales shows it, the
payment's tracking or Sayad number) and a description, both in the deployment language. The
same key never posts twice, so ``flask --app wsgi crm accounting backfill`` (entries for the
documents of a deployment that enabled the module late) can run again safely. An event dated
in a closed fiscal year is posted on the first day of the next open one (see ``journal``).
"""

from collections import defaultdict

import click
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _

from core.events import (
    cheque_status_changed,
    invoice_posted,
    module_listener,
    payment_recorded,
    points_changed,
)
from core.extensions import db
from core.i18n import digits, strip_bidi
from modules.accounting_link.journal import Leg, in_deployment_language, post_entry

POINTS_KINDS = {  # ledger kind (sign of points) → (entry kind, debit role, credit role)
    ("earn", 1): ("points_issued", "points_expense", "points_liability"),
    ("adjust", 1): ("points_issued", "points_expense", "points_liability"),
    ("redeem", -1): ("points_redeemed", "points_liability", "discounts"),
    ("adjust", -1): ("points_redeemed", "points_liability", "discounts"),
    ("expire", -1): ("points_expired", "points_liability", "points_breakage"),
    ("reverse", -1): ("points_reversed", "points_liability", "points_expense"),
}


# --- the rules -----------------------------------------------------------------------------

def invoice_legs(invoice) -> list[Leg]:
    """The legs of an invoice (or, mirrored, a credit note): see the module docstring."""
    from modules.sales.services import invoice_posting_lines

    lines = invoice_posting_lines(invoice)
    revenue: dict[str, int] = defaultdict(int)
    for line in lines:
        role = f"revenue:{line['category_id']}" if line["category_id"] else "revenue"
        revenue[role] += line["gross"]
    total = sum(line["total"] for line in lines)
    discounts = sum(line["discounts"] for line in lines)
    vat = sum(line["vat"] for line in lines)
    legs = [Leg("receivables", debit=total), Leg("discounts", debit=discounts),
            *(Leg(role, credit=amount) for role, amount in revenue.items()),
            Leg("vat_payable", credit=vat)]
    if invoice.kind == "credit_note":
        legs = [Leg(leg.role, debit=leg.credit, credit=leg.debit) for leg in legs]
        legs = [leg for leg in legs if leg.debit] + [leg for leg in legs if leg.credit]
    return legs


def post_invoice(invoice, occurred_at=None):
    """The entry of a posted invoice or credit note (once per document)."""
    from modules.sales.services import document_title

    with in_deployment_language():
        title = document_title(invoice)
        name = invoice.customer.display_name if invoice.customer else ""
        return post_entry(
            kind="credit_note" if invoice.kind == "credit_note" else "invoice",
            source_type="sales.invoice", source_id=invoice.id, key=f"sales.invoice:{invoice.id}",
            legs=invoice_legs(invoice), occurred_at=occurred_at or invoice.posted_at,
            reference=digits(invoice.reference),
            description=_("%(title)s to %(customer)s", title=title, customer=name),
            customer_id=invoice.customer_id)


def _payment_reference(payment) -> str:
    return digits(payment.sayad_number or payment.reference or f"P-{payment.id}")


def post_payment(payment, occurred_at=None):
    """The entry of a payment received, dated the day it was received: into the bank of its
    method, or cheques in hand."""
    from modules.sales.services import payment_method_label

    debit = "cheques_in_hand" if payment.method == "cheque" else f"bank:{payment.method}"
    with in_deployment_language():
        name = payment.customer.display_name if payment.customer else ""
        return post_entry(
            kind="payment", source_type="sales.payment", source_id=payment.id,
            key=f"sales.payment:{payment.id}",
            legs=[Leg(debit, debit=payment.amount), Leg("receivables", credit=payment.amount)],
            occurred_at=payment.received_on or occurred_at or payment.created_at,
            reference=_payment_reference(payment),
            description=_("Payment by %(method)s from %(customer)s",
                          method=payment_method_label(payment.method).lower(), customer=name),
            customer_id=payment.customer_id)


def post_cheque_status(payment, status: str, occurred_at=None):
    """The entry of a cheque that cleared or bounced (none for other statuses)."""
    if status == "cleared":
        legs = [Leg("bank:cheque", debit=payment.amount),
                Leg("cheques_in_hand", credit=payment.amount)]
    elif status == "bounced":
        legs = [Leg("receivables", debit=payment.amount),
                Leg("cheques_in_hand", credit=payment.amount)]
    else:
        return None
    with in_deployment_language():
        name = payment.customer.display_name if payment.customer else ""
        description = (_("Cheque from %(customer)s cleared", customer=name)
                       if status == "cleared" else
                       _("Cheque from %(customer)s bounced", customer=name))
        return post_entry(
            kind="cheque", source_type="sales.payment", source_id=payment.id,
            key=f"sales.payment:{payment.id}:{status}", legs=legs,
            occurred_at=occurred_at or payment.status_changed_at,
            reference=_payment_reference(payment), description=description,
            customer_id=payment.customer_id)


def points_reference(reference: str) -> str:
    """What the journal calls a club entry's source: the invoice's number for points earned
    on an invoice ("۱۴۰۵-۱"), else the club's own name for it (a reward's name), not the
    club's machine key (``sales.invoice:12``)."""
    kind, _sep, rest = (reference or "").partition(":")
    if kind == "sales.invoice" and rest.isdigit():
        from modules.sales.services import invoice_by_id

        invoice = invoice_by_id(int(rest))
        if invoice is not None and invoice.reference:
            return digits(invoice.reference)
    if kind.startswith("loyalty."):
        from modules.loyalty.services import reference_label

        return strip_bidi(reference_label(reference))[:60]
    return digits(reference or "")[:60]


def post_points(*, entry_id: int, kind: str, points: int, value: int, customer_id=None,
                reference: str = "", occurred_at=None):
    """The entry of a club ledger change (none for a release or zero points)."""
    rule = POINTS_KINDS.get((kind, 1 if points > 0 else -1)) if points else None
    if rule is None or not value:
        return None
    entry_kind, debit, credit = rule
    amount = abs(value)
    with in_deployment_language():
        description = {
            "points_issued": _("%(points)s club points issued", points=digits(abs(points))),
            "points_redeemed": _("%(points)s club points redeemed", points=digits(abs(points))),
            "points_expired": _("%(points)s club points expired", points=digits(abs(points))),
            "points_reversed": _("%(points)s club points taken back (refund)",
                                 points=digits(abs(points))),
        }[entry_kind]
        return post_entry(
            kind=entry_kind, source_type="loyalty.entry", source_id=entry_id,
            key=f"loyalty.entry:{entry_id}",
            legs=[Leg(debit, debit=amount), Leg(credit, credit=amount)],
            occurred_at=occurred_at, reference=points_reference(reference),
            description=description, customer_id=customer_id)


# --- listeners -----------------------------------------------------------------------------

@module_listener("accounting_link")
def on_invoice_posted(_sender, invoice=None, occurred_at=None, **_kw):
    if invoice is not None:
        post_invoice(invoice, occurred_at)


@module_listener("accounting_link")
def on_payment_recorded(_sender, payment=None, amount=0, status=None, occurred_at=None,
                        **_kw):
    # A bounced cheque is announced here too (negative amount); its entry comes from
    # cheque_status_changed under the same key.
    if payment is not None and status != "bounced" and amount > 0:
        post_payment(payment, occurred_at)


@module_listener("accounting_link")
def on_cheque_status_changed(_sender, payment=None, status=None, occurred_at=None, **_kw):
    if payment is not None:
        post_cheque_status(payment, status, occurred_at)


@module_listener("accounting_link")
def on_points_changed(_sender, entry_id=None, kind="", points=0, value=0, customer_id=None,
                      reference="", occurred_at=None, **_kw):
    if entry_id is not None:
        post_points(entry_id=entry_id, kind=kind, points=points, value=value,
                    customer_id=customer_id, reference=reference, occurred_at=occurred_at)


# --- backfill ------------------------------------------------------------------------------

def backfill(batch: int = 500) -> dict[str, int]:
    """Post the entries of every document that has none yet (idempotent); commits per batch.

    Returns how many entries each kind of document added. Cheques: the receipt, then the
    clearing or the bounce when that is their status now. Club points use the club's current
    point value.
    """
    from modules.accounting_link.journal import by_key
    from modules.sales.services import payments_after, posted_invoices_after

    counts = {"invoices": 0, "payments": 0, "cheques": 0, "points": 0}

    def fresh(key, post):
        if by_key(key) is None and post() is not None:
            return 1
        return 0

    last = 0
    while rows := posted_invoices_after(last, batch):
        for invoice in rows:
            counts["invoices"] += fresh(f"sales.invoice:{invoice.id}",
                                        lambda i=invoice: post_invoice(i))
        last = rows[-1].id
        db.session.commit()
    last = 0
    while rows := payments_after(last, batch):
        for payment in rows:
            counts["payments"] += fresh(f"sales.payment:{payment.id}",
                                        lambda p=payment: post_payment(p))
            if payment.method == "cheque" and payment.status in ("cleared", "bounced"):
                counts["cheques"] += fresh(
                    f"sales.payment:{payment.id}:{payment.status}",
                    lambda p=payment: post_cheque_status(p, p.status))
        last = rows[-1].id
        db.session.commit()
    counts["points"] = _backfill_points(batch, fresh)
    return counts


def _backfill_points(batch: int, fresh) -> int:
    """Club ledger entries without a journal entry (only while the club is loaded and active)."""
    from sqlalchemy import select

    from core.modules import is_active

    table = db.metadata.tables.get("loyalty_entry")
    members = db.metadata.tables.get("loyalty_member")
    if table is None or members is None or not is_active("loyalty"):
        return 0
    from modules.loyalty.services import point_value

    value, added, last = point_value(), 0, 0
    while rows := db.session.execute(
            select(table.c.id, table.c.kind, table.c.points, table.c.reference,
                   table.c.created_at, members.c.customer_id)
            .join(members, members.c.id == table.c.member_id)
            .where(table.c.id > last).order_by(table.c.id).limit(batch)).all():
        for row in rows:
            added += fresh(f"loyalty.entry:{row.id}", lambda r=row: post_points(
                entry_id=r.id, kind=r.kind, points=r.points, value=r.points * value,
                customer_id=r.customer_id, reference=r.reference or "",
                occurred_at=r.created_at))
        last = rows[-1].id
        db.session.commit()
    return added


@click.command("backfill")
@with_appcontext
def backfill_command():
    """Post journal entries for documents that have none (safe to run again)."""
    counts = backfill()
    click.echo(_("Entries added: %(invoices)s invoices and credit notes, %(payments)s "
                 "payments, %(cheques)s cheque changes, %(points)s club point changes.",
                 **counts))


def register_cli() -> None:
    """``flask crm accounting backfill`` (the ``accounting`` group is shared with other parts)."""
    from core.cli import crm

    group = crm.commands.get("accounting")
    if group is None:
        group = AppGroup("accounting", help="Accounting link.")
        crm.add_command(group)
    if "backfill" not in group.commands:
        group.add_command(backfill_command)


def register(app) -> None:
    """Connect the listeners (they do nothing while the module is inactive) and the CLI."""
    invoice_posted.connect(on_invoice_posted, weak=False)
    payment_recorded.connect(on_payment_recorded, weak=False)
    cheque_status_changed.connect(on_cheque_status_changed, weak=False)
    points_changed.connect(on_points_changed, weak=False)
    register_cli()
