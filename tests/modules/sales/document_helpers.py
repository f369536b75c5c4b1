"""Helpers for the quote, invoice and payment tests: the company's official fields, a buyer
with legal fields, products, and documents made through the services."""

from core.extensions import db
from tests.core.customers.conftest import national_code  # noqa: F401 - re-exported

COMPANY = {"company.legal_name": "شرکت پیوند نوین", "company.national_id": "10101010103",
           "company.economic_code": "10101010103", "company.postal_code": "1311111111",
           "company.address": "تهران، خیابان آزادی، پلاک ۱۰"}
# An organisation's national id with a valid check digit (see core.validators).
BUYER_NATIONAL_ID = "10320891189"


def user(email="admin@example.ir"):
    from core.auth.models import User

    return db.session.query(User).filter_by(email=email).one()


def set_company(app) -> None:
    from core.database import set_setting

    with app.app_context():
        for key, value in COMPANY.items():
            set_setting(key, value)
        db.session.commit()


def make_buyer(app, owner_email="admin@example.ir", **fields) -> int:
    """An organisation with the official fields an invoice prints."""
    from core.customers.services import create_customer

    values = {"kind": "organisation", "legal_name": "شرکت بازرگانی آلفا",
              "display_name": "آلفا", "national_id": BUYER_NATIONAL_ID,
              "economic_code": BUYER_NATIONAL_ID, "emails": ["buyer@alfa.example"],
              "address": {"province": "اصفهان", "city": "اصفهان", "line": "خیابان چهارباغ",
                          "postal_code": "8173111111"}}
    values.update(fields)
    with app.test_request_context():
        customer = create_customer(by=user(owner_email) if owner_email else None, **values)
        db.session.commit()
        return customer.id


def make_product(app, code="LAP", name="لپ تاپ", price=1_200_000, **fields) -> int:
    from modules.sales.catalog import create_product

    with app.test_request_context():
        product = create_product(code=code, name=name, price=price, **fields)
        db.session.commit()
        return product.id


def make_invoice(app, customer_id, items, email="admin@example.ir", post=False,
                 original_id=None, **kw) -> int:
    """A draft (or posted) invoice made through the service; returns its id."""
    from core.customers.models import Customer
    from modules.sales import invoices
    from modules.sales.models.documents import Invoice

    with app.test_request_context():
        if original_id is not None:
            kw["original"] = db.session.get(Invoice, original_id)
        invoice = invoices.create_invoice(db.session.get(Customer, customer_id), items,
                                          by=user(email), **kw)
        db.session.commit()
        invoice_id = invoice.id
    if post:
        post_invoice(app, invoice_id, email)
    return invoice_id


def post_invoice(app, invoice_id, email="admin@example.ir"):
    from modules.sales import invoices

    with app.test_request_context("/", method="POST"):
        invoices.post_invoice(invoice_id, by=user(email))
        db.session.commit()


def make_quote(app, customer_id, items, email="admin@example.ir", **kw) -> int:
    from core.customers.models import Customer
    from modules.sales import quotes

    with app.test_request_context():
        quote = quotes.create_quote(db.session.get(Customer, customer_id), items,
                                    by=user(email), **kw)
        db.session.commit()
        return quote.id


def balance(app, invoice_id) -> int:
    from modules.sales.models.documents import Invoice
    from modules.sales.receivables import invoice_balance

    with app.app_context():
        return invoice_balance(db.session.get(Invoice, invoice_id))
