"""Invoices: posting (numbers, snapshots, events), immutability everywhere, credit notes,
corrective invoices, VAT restated at posting, receivables and aging."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.sales.document_helpers import (
    balance,
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
    """An admin with a sales seat, the company's fields, a buyer and a 1,200,000 laptop."""
    make_user(seats=["sales"])
    set_company(app)
    return {"customer": make_buyer(app), "product": make_product(app, price=1_200_000)}


def _invoice(invoice_id):
    from modules.sales.models.documents import Invoice

    return db.session.get(Invoice, invoice_id)


def _two_laptops(seeded):
    return [{"product_id": seeded["product"], "quantity": 2}]


def test_posting_numbers_snapshots_and_announces(app, seeded):
    from core.analytics.models import Purchase
    from core.events import invoice_posted
    from modules.sales.numbering import fiscal_year_for
    from modules.sales.quotes import today

    heard = []

    def listener(sender, **kw):
        heard.append(kw)

    invoice_posted.connect(listener)
    try:
        ids = [make_invoice(app, seeded["customer"], _two_laptops(seeded), post=True)
               for _ in range(3)]
    finally:
        invoice_posted.disconnect(listener)
    with app.app_context():
        year = fiscal_year_for(today())
        invoices = [_invoice(i) for i in ids]
        assert [(i.fiscal_year, i.number) for i in invoices] == [(year, 1), (year, 2), (year, 3)]
        first = invoices[0]
        assert (first.status, first.issue_date, first.total) == ("posted", today(), 2_640_000)
        assert (first.seller_legal_name, first.seller_economic_code) == ("شرکت پیوند نوین",
                                                                         "10101010103")
        assert (first.buyer_legal_name, first.buyer_national_id, first.buyer_postal_code,
                first.buyer_address) == ("شرکت بازرگانی آلفا", "10320891189", "8173111111",
                                         "اصفهان اصفهان خیابان چهارباغ")
        purchases = db.session.execute(select(Purchase).order_by(Purchase.id)).scalars().all()
        assert [(p.customer_id, p.amount, p.source, p.idempotency_key) for p in purchases] == [
            (seeded["customer"], 2_640_000, "sales", f"sales.invoice:{i}") for i in ids]
    assert [h["invoice_id"] for h in heard] == ids
    assert heard[0]["total"] == 2_640_000 and heard[0]["customer_id"] == seeded["customer"]

    # the buyer's record changes later; the posted invoice keeps what it printed
    from core.customers.models import Customer
    from core.customers.services import update_customer

    with app.test_request_context():
        update_customer(db.session.get(Customer, seeded["customer"]), legal_name="نام تازه")
        db.session.commit()
        assert _invoice(ids[0]).buyer_legal_name == "شرکت بازرگانی آلفا"


def test_fiscal_year_follows_the_start_month_setting(app):
    import jdatetime

    from core.database import set_setting
    from modules.sales.numbering import fiscal_year_for, next_number

    with app.app_context():
        set_setting("fiscal.year_start_month", 7)  # the year starts on 1 Mehr
        assert fiscal_year_for(jdatetime.date(1404, 6, 31).togregorian()) == 1403
        assert fiscal_year_for(jdatetime.date(1404, 7, 1).togregorian()) == 1404
        assert [next_number("invoice", 1403), next_number("invoice", 1404),
                next_number("invoice", 1403), next_number("credit_note", 1403)] == [1, 1, 2, 1]


def test_a_posted_invoice_cannot_be_changed_by_service_orm_ui_or_api(app, seeded, client,
                                                                        login):
    from modules.sales import invoices
    from tests.modules.sales.deal_helpers import bearer_for

    invoice_id = make_invoice(app, seeded["customer"], _two_laptops(seeded), post=True,
                              notes="اصل")
    with app.test_request_context():
        invoice = _invoice(invoice_id)
        ref = invoice.reference
        message = f"Invoice {ref} is posted and cannot be changed"
        with pytest.raises(invoices.InvoiceImmutable, match=message):
            invoices.update_invoice(invoice, [{"product_id": seeded["product"], "quantity": 1}])
        with pytest.raises(invoices.InvoiceImmutable, match=message):
            invoices.delete_draft(invoice)
        with pytest.raises(invoices.InvoiceError, match="already posted"):
            invoices.post_invoice(invoice_id)
        db.session.rollback()

    # straight through the ORM: the before_flush guard refuses
    for change in (lambda inv: setattr(inv, "notes", "تغییر"),
                   lambda inv: setattr(inv, "total", 1),
                   lambda inv: setattr(inv.lines[0], "unit_price", 1),
                   lambda inv: inv.lines.append(invoices.InvoiceLine(
                       description="x", quantity=1000, unit_price=1)),
                   lambda inv: db.session.delete(inv.lines[0]),
                   lambda inv: db.session.delete(inv)):
        with app.app_context():
            change(_invoice(invoice_id))
            with pytest.raises(invoices.InvoiceImmutable, match=message):
                db.session.commit()
            db.session.rollback()

    login()
    page = client.get(f"/sales/invoices/{invoice_id}")
    assert b"data-immutable" in page.data and b"data-edit-invoice" not in page.data
    token = csrf_from(page)
    edit = client.get(f"/sales/invoices/{invoice_id}/edit", follow_redirects=True)
    assert message.encode() in edit.data
    posted_form = client.post(f"/sales/invoices/{invoice_id}/edit", data={
        "csrf_token": token, "lines-0-description": "x", "lines-0-quantity": "1",
        "lines-0-unit_price": "1", "action": "save"}, follow_redirects=True)
    assert message.encode() in posted_form.data
    deleted = client.post(f"/sales/invoices/{invoice_id}/delete", data={"csrf_token": token},
                          follow_redirects=True)
    assert message.encode() in deleted.data

    headers = bearer_for(app, "admin@example.ir")
    patched = client.patch(f"/api/v1/sales/invoices/{invoice_id}", headers=headers, json={
        "lines": [{"description": "x", "quantity": "1", "unit_price": 1}]})
    assert patched.status_code == 409 and patched.mimetype == "application/problem+json"
    assert message in patched.get_json()["detail"]
    assert client.delete(f"/api/v1/sales/invoices/{invoice_id}",
                         headers=headers).status_code == 409
    with app.app_context():
        invoice = _invoice(invoice_id)
        assert (invoice.notes, invoice.total, len(invoice.lines)) == ("اصل", 2_640_000, 1)
        assert invoice.lines[0].unit_price == 1_200_000


def test_a_credit_note_reduces_what_is_owed(app, seeded):
    from core.analytics.models import Purchase
    from modules.sales import invoices
    from modules.sales.receivables import customer_balance

    invoice_id = make_invoice(app, seeded["customer"], _two_laptops(seeded), post=True)
    assert balance(app, invoice_id) == 2_640_000
    with app.test_request_context():
        note = invoices.create_credit_note(
            _invoice(invoice_id), [{"product_id": seeded["product"], "quantity": 1}],
            by=user(), notes="یک دستگاه برگشت خورد")
        db.session.commit()
        note_id = note.id
        assert balance(app, invoice_id) == 2_640_000  # a draft credits nothing
    post_invoice(app, note_id)
    assert balance(app, invoice_id) == 1_320_000
    with app.test_request_context():
        note = _invoice(note_id)
        assert (note.kind, note.number, note.total, note.original_id) == (
            "credit_note", 1, 1_320_000, invoice_id)
        assert invoices.title(note) == f"Credit note {note.reference}"
        owed = customer_balance(seeded["customer"])
        assert (owed.invoiced, owed.credited, owed.balance) == (2_640_000, 1_320_000, 1_320_000)
        refund = db.session.execute(select(Purchase.amount).where(
            Purchase.idempotency_key == f"sales.invoice:{note_id}")).scalar()
        assert refund == -1_320_000
        too_much = invoices.create_credit_note(_invoice(invoice_id), by=user())  # all of it
        db.session.commit()
        too_much_id = too_much.id
    with app.test_request_context(), pytest.raises(invoices.InvoiceError,
                                                   match="more than what is left to credit"):
        invoices.post_invoice(too_much_id, by=user())


def test_a_corrective_invoice_replaces_the_original_and_takes_its_payments(app, seeded):
    from core.customers.models import Customer
    from modules.sales import invoices, payments

    original = make_invoice(app, seeded["customer"], _two_laptops(seeded), post=True)
    with app.test_request_context():
        payments.record_payment(db.session.get(Customer, seeded["customer"]), amount=1_000_000,
                                method="cash", by=user())
        db.session.commit()
    assert balance(app, original) == 1_640_000
    corrective = make_invoice(app, seeded["customer"],
                              [{"product_id": seeded["product"], "quantity": 1}],
                              original_id=original)
    post_invoice(app, corrective)
    with app.app_context():
        assert balance(app, original) == 0
        assert balance(app, corrective) == 1_320_000 - 1_000_000
        replaced = invoices.replaced_by(_invoice(original))
        assert replaced.id == corrective
        [note] = [i for i in _all_invoices() if i.kind == "credit_note"]
        assert (note.original_id, note.total, note.status) == (original, 2_640_000, "posted")
    with app.test_request_context(), pytest.raises(invoices.InvoiceError,
                                                   match="already replaced"):
        invoices.create_invoice(db.session.get(Customer, seeded["customer"]),
                                [{"product_id": seeded["product"], "quantity": 1}],
                                by=user(), original=_invoice(original))


def _all_invoices():
    from modules.sales.models.documents import Invoice

    return db.session.execute(select(Invoice).order_by(Invoice.id)).scalars().all()


def test_vat_is_restated_at_the_rate_in_force_on_the_posting_day(app, seeded):
    from core.tax import set_tax_rate
    from modules.sales.quotes import today

    draft = make_invoice(app, seeded["customer"], _two_laptops(seeded))
    with app.app_context():
        assert _invoice(draft).vat == 240_000
        set_tax_rate("standard", 1200, today(), note="test")
        db.session.commit()
    post_invoice(app, draft)
    with app.app_context():
        invoice = _invoice(draft)
        assert (invoice.vat, invoice.total, invoice.lines[0].vat_rate_bp) == (288_000, 2_688_000,
                                                                             1200)


def test_aging_groups_what_is_owed_by_jalali_month(app, seeded, client, login):
    import jdatetime

    from modules.sales.models.documents import Invoice
    from modules.sales.receivables import aging

    old, recent, paid = (make_invoice(app, seeded["customer"], _two_laptops(seeded), post=True)
                         for _ in range(3))
    with app.app_context():
        as_of = jdatetime.date(1404, 5, 20).togregorian()
        for invoice_id, day in ((old, jdatetime.date(1403, 11, 3)),
                                (recent, jdatetime.date(1404, 4, 30)),
                                (paid, jdatetime.date(1404, 5, 1))):
            # back-date (a plain UPDATE: the guard watches the ORM, as it should)
            db.session.execute(update(Invoice).where(Invoice.id == invoice_id)
                               .values(issue_date=day.togregorian()))
        db.session.commit()
    with app.test_request_context():
        from core.customers.models import Customer
        from modules.sales import payments

        payments.record_payment(db.session.get(Customer, seeded["customer"]), amount=2_640_000,
                                method="transfer", reference="123",
                                allocations=[(_invoice(paid), 2_640_000)], by=user())
        db.session.commit()
        report = aging(select(Invoice), as_of=as_of, months=3)
        assert report.months == [(1404, 5), (1404, 4), (1404, 3)]
        [row] = report.rows
        assert row.cells == {(1404, 4): 2_640_000, "earlier": 2_640_000}
        assert report.total == 5_280_000
    login()
    page = client.get("/sales/receivables")
    assert b"data-aging" in page.data and b"5,280,000" in page.data


def test_make_and_post_an_invoice_in_the_ui(app, seeded, client, login):
    login()
    assert b"No invoices yet" in client.get("/sales/invoices/").data
    page = client.get(f"/sales/invoices/new?customer_id={seeded['customer']}")
    saved = client.post("/sales/invoices/new", data={
        "csrf_token": csrf_from(page), "customer_id": str(seeded["customer"]),
        "lines-0-product_id": str(seeded["product"]), "lines-0-quantity": "۱",
        "due_date": "", "discount": "", "notes": "", "action": "save"})
    assert saved.status_code == 302, saved.data[:3000]
    shown = client.get(saved.headers["Location"])
    assert b"data-draft" in shown.data
    invoice_id = int(saved.headers["Location"].rstrip("/").split("/")[-1])
    posted = client.post(f"/sales/invoices/{invoice_id}/post",
                         data={"csrf_token": csrf_from(shown)}, follow_redirects=True)
    assert b"posted." in posted.data and b"data-immutable" in posted.data
    with app.app_context():
        assert _invoice(invoice_id).number == 1
    listed = client.get("/sales/invoices/?show=posted")
    assert f'data-invoice="{invoice_id}"'.encode() in listed.data


def test_due_dates_and_discounts_are_checked(app, seeded):
    from core.customers.models import Customer
    from modules.sales import invoices

    with app.test_request_context():
        customer = db.session.get(Customer, seeded["customer"])
        with pytest.raises(invoices.InvoiceError) as refused:
            invoices.create_invoice(customer, _two_laptops(seeded), by=user(),
                                    due_date=date.today() - timedelta(days=3),
                                    discount=10_000_000)
        assert refused.value.errors == {
            "due_date": "The due date cannot be in the past.",
            "discount": "The document discount is larger than the lines' total."}
        with pytest.raises(invoices.InvoiceError) as refused:
            invoices.create_invoice(customer, [], by=user())
        assert refused.value.errors == {"lines": "Add at least one line."}
