"""Helpers for the journal tests: a seeded company with two product categories, documents
posted through sales, and the journal read back by key."""

from core.extensions import db
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    set_company,
    user,
)


def seed(app, make_user) -> dict:
    """An admin with sales and accounting seats, a buyer, and two products in two categories
    (a 1,200,000 laptop in "Computers", a 500,000 service in "Services")."""
    from modules.sales.catalog import category_named

    make_user(seats=["sales", "accounting_link", "loyalty"])
    set_company(app)
    with app.app_context():
        computers, services = category_named("Computers"), category_named("Services")
        db.session.commit()
        ids = computers.id, services.id
    return {"customer": make_buyer(app), "computers": ids[0], "services": ids[1],
            "laptop": make_product(app, price=1_200_000, category_id=ids[0]),
            "setup": make_product(app, code="SET", name="نصب", price=500_000,
                                  category_id=ids[1])}


def two_category_invoice(app, seeded) -> int:
    """2 laptops at 10% off + 1 setup, 100,000 off the document, 10% VAT; posted."""
    return make_invoice(app, seeded["customer"],
                        [{"product_id": seeded["laptop"], "quantity": 2, "discount_percent": 10},
                         {"product_id": seeded["setup"], "quantity": 1}],
                        post=True, discount=100_000)


def credit_note(app, invoice_id, items=None) -> int:
    """A posted credit note on ``invoice_id`` (in full unless ``items``)."""
    from modules.sales import invoices
    from modules.sales.models.documents import Invoice

    with app.test_request_context("/", method="POST"):
        note = invoices.create_credit_note(db.session.get(Invoice, invoice_id), items,
                                           by=user())
        db.session.commit()
        note_id = note.id
        invoices.post_invoice(note_id, by=user())
        db.session.commit()
    return note_id


def entry(key):
    from modules.accounting_link.journal import by_key

    return by_key(key)


def legs(entry) -> list[tuple[str, int, int]]:
    """(role, debit, credit) of each line, in order."""
    return [(line.role, line.debit, line.credit) for line in entry.lines]


def balanced(entry) -> bool:
    return sum(line.debit for line in entry.lines) == sum(line.credit for line in entry.lines) \
        == entry.total


def all_entries():
    from sqlalchemy import select

    from modules.accounting_link.models.journal import JournalEntry

    return list(db.session.execute(select(JournalEntry).order_by(JournalEntry.id)).scalars())
