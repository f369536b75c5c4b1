"""Helpers for the export, beancount and e-invoice tests: a known journal written with
``post_entry`` at fixed Tehran dates, and a period of real sales and club activity."""

from datetime import date, datetime, time, timedelta

from core.extensions import db
from core.i18n import TEHRAN
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    set_company,
    user,
)


def tehran(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=TEHRAN)


def known_journal(app) -> dict:
    """Four entries: one in 1403 (outside the period 1404/01/01-1404/01/31), an invoice on
    1404/01/05, a card payment on 1404/01/20 and club points on 1404/02/01."""
    from modules.accounting_link.journal import Leg, ensure_default_chart, post_entry

    customer_id = make_buyer(app, owner_email=None)
    with app.test_request_context():
        ensure_default_chart()
        post_entry(kind="invoice", source_type="sales.invoice", source_id=1, key="t:old",
                   legs=[Leg("receivables", debit=500), Leg("revenue", credit=500)],
                   occurred_at=tehran(date(2025, 3, 19)), reference="1403-9",
                   description="Old invoice")
        post_entry(kind="invoice", source_type="sales.invoice", source_id=7, key="t:invoice",
                   legs=[Leg("receivables", debit=1_100_000), Leg("revenue", credit=1_000_000),
                         Leg("vat_payable", credit=100_000)],
                   occurred_at=tehran(date(2025, 3, 25)), reference="۱۴۰۴-۱",
                   description="Invoice 1404-1 to آلفا", customer_id=customer_id)
        post_entry(kind="payment", source_type="sales.payment", source_id=3, key="t:payment",
                   legs=[Leg("bank:card", debit=600_000),
                         Leg("receivables", credit=600_000, memo='Card "A", first part')],
                   occurred_at=tehran(date(2025, 4, 9)), reference="TRK-55",
                   description="Card payment, first instalment", customer_id=customer_id)
        post_entry(kind="points_issued", source_type="loyalty.entry", source_id=9,
                   key="t:points",
                   legs=[Leg("points_expense", debit=50_000),
                         Leg("points_liability", credit=50_000)],
                   occurred_at=tehran(date(2025, 4, 21)), reference="",
                   description="Points earned")
        db.session.commit()
    return {"customer": customer_id}


def busy_period(app, make_user) -> dict:
    """Real activity through sales and the club: two invoices (one with a discount), a credit
    note, a cash and a card payment, a cheque that clears and one that bounces, and points
    earned, redeemed and expired. Returns the ids."""
    from core.customers.models import Customer
    from modules.loyalty import ledger
    from modules.sales import invoices, payments
    from modules.sales.catalog import category_named
    from modules.sales.models.documents import Invoice
    from tests.modules.loyalty.club_helpers import make_member, member

    make_user(seats=["sales", "accounting_link", "loyalty"])
    set_company(app)
    with app.app_context():
        category = category_named("Computers")
        db.session.commit()
        category_id = category.id
    customer_id = make_buyer(app)
    laptop = make_product(app, price=1_200_000, category_id=category_id)
    setup = make_product(app, code="SET", name="نصب", price=500_000)
    first = make_invoice(app, customer_id, [{"product_id": laptop, "quantity": 2,
                                             "discount_percent": 10},
                                            {"product_id": setup, "quantity": 1}],
                         post=True, discount=100_000)
    second = make_invoice(app, customer_id, [{"product_id": setup, "quantity": 3}], post=True)
    with app.test_request_context("/", method="POST"):
        note = invoices.create_credit_note(db.session.get(Invoice, second), [
            {"product_id": setup, "quantity": 1}], by=user())
        db.session.commit()
        note_id = note.id
        invoices.post_invoice(note_id, by=user())
        db.session.commit()
        customer = db.session.get(Customer, customer_id)
        payments.record_payment(customer, amount=300_000, method="cash", by=user())
        payments.record_payment(customer, amount=250_000, method="card", by=user(),
                                reference="778899")
        good = payments.record_payment(
            customer, amount=800_000, method="cheque", by=user(), sayad_number="1234567890123456",
            bank="ملت", cheque_due_date=date.today() + timedelta(days=30))
        bad = payments.record_payment(
            customer, amount=400_000, method="cheque", by=user(), sayad_number="6543210987654321",
            bank="ملی", cheque_due_date=date.today() + timedelta(days=20))
        db.session.commit()
        payments.set_cheque_status(good, "deposited", by=user())
        payments.set_cheque_status(good, "cleared", by=user())
        payments.set_cheque_status(bad, "bounced", by=user())
        db.session.commit()
    member_id = make_member(app)
    with app.test_request_context():
        today = ledger.today()
        ledger.earn(member(member_id), 100, reason="purchase", reference="INV-1")
        ledger.redeem(member(member_id), 30, reason="reward")
        ledger.earn(member(member_id), 7, reason="promo", expires_on=today + timedelta(days=1))
        db.session.commit()
        ledger.expire_due(today + timedelta(days=3))
        db.session.commit()
    return {"customer": customer_id, "invoices": [first, second], "credit_note": note_id}
