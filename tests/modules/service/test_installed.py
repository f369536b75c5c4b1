"""Installed base from posted sales invoices: one item per unit, warranty from the terms, once."""

from datetime import date

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    post_invoice,
    set_company,
    user,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def seeded(app, make_user):
    from modules.service.models.assets import WarrantyTerm

    make_user(seats=["sales", "service"])
    set_company(app)
    laptop = make_product(app, code="LAP", name="لپ تاپ", price=1_000_000)
    phone = make_product(app, code="PH", name="گوشی", price=500_000)
    setup = make_product(app, code="SET", name="نصب", price=100_000, kind="service")
    with app.app_context():
        db.session.add_all([WarrantyTerm(product_id=laptop, months=18),
                            WarrantyTerm(product_id=None, months=12)])
        db.session.commit()
    return {"customer": make_buyer(app), "laptop": laptop, "phone": phone, "setup": setup}


def _items(**where):
    from modules.service.models.assets import InstalledItem

    return list(db.session.execute(select(InstalledItem).filter_by(**where)
                                   .order_by(InstalledItem.id)).scalars())


def test_jalali_month_arithmetic_keeps_the_day_or_the_months_last():
    from modules.service.installed import add_months

    assert add_months(date(2024, 3, 20), 12) == date(2025, 3, 21)  # 1403/01/01 → 1404/01/01
    assert add_months(date(2024, 9, 21), 1) == date(2024, 10, 21)  # 31 Shahrivar → 30 Mehr
    assert add_months(date(2024, 9, 21), 18) == date(2026, 3, 20)  # 31 Shahrivar → 29 Esfand


def test_a_posted_invoice_records_each_product_unit_with_its_warranty_once(app, seeded):
    from core.events import emit, invoice_posted
    from modules.sales.models.documents import Invoice
    from modules.service.installed import add_months

    invoice_id = make_invoice(app, seeded["customer"], [
        {"product_id": seeded["laptop"], "quantity": 2},
        {"product_id": seeded["phone"], "quantity": 1},
        {"product_id": seeded["setup"], "quantity": 1}], post=True)
    with app.test_request_context():
        invoice = db.session.get(Invoice, invoice_id)
        items = _items(invoice_id=invoice_id)
        assert [i.product_id for i in items] == [seeded["laptop"]] * 2 + [seeded["phone"]]
        day = invoice.issue_date
        assert {(i.purchased_on, i.warranty_until) for i in items if i.product_id ==
                seeded["laptop"]} == {(day, add_months(day, 18))}
        assert items[2].warranty_until == add_months(day, 12)  # the default term
        assert {i.customer_id for i in items} == {seeded["customer"]}
        assert {i.source for i in items} == {"invoice"}
        emit(invoice_posted, invoice=invoice, invoice_id=invoice.id, kind=invoice.kind)
        db.session.commit()
        assert len(_items(invoice_id=invoice_id)) == 3  # replayed: nothing new


def test_no_term_means_no_warranty_end_and_credit_notes_make_no_items(app, seeded):
    from modules.sales import invoices
    from modules.sales.models.documents import Invoice
    from modules.service.models.assets import WarrantyTerm

    with app.app_context():
        db.session.execute(WarrantyTerm.__table__.delete().where(
            WarrantyTerm.product_id.is_(None)))
        db.session.commit()
    invoice_id = make_invoice(app, seeded["customer"],
                              [{"product_id": seeded["phone"], "quantity": 1}], post=True)
    with app.test_request_context():
        [item] = _items(invoice_id=invoice_id)
        assert item.warranty_until is None
        note = invoices.create_credit_note(db.session.get(Invoice, invoice_id), by=user())
        db.session.commit()
        note_id = note.id
    post_invoice(app, note_id)
    with app.app_context():
        assert _items(invoice_id=note_id) == []
        assert _items(invoice_id=invoice_id) == []  # credited in full: taken back


def test_a_corrective_invoice_keeps_a_typed_serial(app, seeded):
    original = make_invoice(app, seeded["customer"],
                            [{"product_id": seeded["laptop"], "quantity": 1}], post=True)
    with app.app_context():
        _items(invoice_id=original)[0].serial = "SN-77"
        db.session.commit()
    corrective = make_invoice(app, seeded["customer"],
                              [{"product_id": seeded["laptop"], "quantity": 1}],
                              original_id=original)
    post_invoice(app, corrective)
    with app.app_context():
        assert _items(invoice_id=original) == []
        assert [i.serial for i in _items(invoice_id=corrective)] == ["SN-77"]


def test_nothing_is_recorded_while_sales_is_inactive(app, seeded, monkeypatch):
    import core.modules

    real = core.modules.is_active
    monkeypatch.setattr(core.modules, "is_active", lambda name: name != "sales" and real(name))
    invoice_id = make_invoice(app, seeded["customer"],
                              [{"product_id": seeded["laptop"], "quantity": 1}], post=True)
    with app.app_context():
        assert _items(invoice_id=invoice_id) == []
