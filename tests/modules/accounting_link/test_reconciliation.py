"""Reconciliation: a Jalali period of posted invoices, credit notes and payments against the
accounting side's document file (its columns matched like an import) or the settlements
pulled over REST; three lists with totals, and the CSV."""

import csv
import io
from datetime import timedelta

import jdatetime
import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.accounting_link.import_helpers import SettlementServer, write_csv
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    set_company,
    user,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _jalali(day) -> str:
    return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")


@pytest.fixture
def books(app, make_user):
    """Two posted invoices (2,640,000 and 1,320,000), a credit note of 1,320,000 on the
    second, a transfer with the reference TR-1 and a cash payment without one."""
    from core.customers.models import Customer
    from core.database import utcnow
    from core.i18n import local_date
    from modules.sales import invoices, payments
    from modules.sales.models.documents import Invoice

    make_user(seats=["sales", "accounting_link"])
    set_company(app)
    customer = make_buyer(app)
    product = make_product(app)
    first = make_invoice(app, customer, [{"product_id": product, "quantity": 2}], post=True)
    second = make_invoice(app, customer, [{"product_id": product, "quantity": 1}], post=True)
    with app.test_request_context("/", method="POST"):
        note = invoices.create_credit_note(db.session.get(Invoice, second), None, by=user())
        db.session.commit()
        invoices.post_invoice(note.id, by=user())
        db.session.commit()
        buyer = db.session.get(Customer, customer)
        payments.record_payment(buyer, amount=1_000_000, method="transfer", reference="TR-1",
                                by=user())
        cash = payments.record_payment(buyer, amount=500_000, method="cash", by=user())
        db.session.commit()
        docs = {i.kind + str(i.id): i.reference for i in db.session.query(Invoice)}
        return {"today": local_date(utcnow()), "first": docs[f"invoice{first}"],
                "second": docs[f"invoice{second}"], "note": docs[f"credit_note{note.id}"],
                "cash": cash.id}


def _accounting_file(tmp_path, books):
    today = _jalali(books["today"])
    yesterday = _jalali(books["today"] - timedelta(days=1))
    rows = [[books["first"].replace("-", "/"), today, "2,640,000"],      # matches
            [books["second"], today, "1,300,000"],                       # different amount
            ["TR-1", yesterday, "1,000,000"],                            # different date
            [f"PAY-{books['cash']}", today, "500,000"],                  # matches
            ["1399-999", today, "7,000,000"]]                            # not in the CRM
    return write_csv(tmp_path / "documents.csv", ["شماره سند", "تاریخ", "مبلغ"], rows)


def test_the_report_lists_missing_and_different_documents_with_totals(app, tmp_path, books):
    from modules.accounting_link import imports, reconciliation

    start = books["today"] - timedelta(days=1)
    with app.test_request_context():
        rows = imports.read_file("documents", _accounting_file(tmp_path, books))
        report = reconciliation.reconcile(start, books["today"],
                                          reconciliation.accounting_documents(rows))
    assert report.matched == 2
    assert [(d.kind, d.number, d.amount) for d in report.missing_in_accounting] == [
        ("credit_note", f"CN-{books['note']}", 1_320_000)]
    assert [(d.kind, d.number, d.amount, d.line) for d in report.missing_in_crm] == [
        ("invoice", "1399-999", 7_000_000, 6)]
    assert [(d.crm.number, d.what, d.amount_gap) for d in report.different] == [
        (books["second"], ["amount"], 20_000), ("TR-1", ["date"], 0)]
    assert (report.missing_in_accounting_total, report.missing_in_crm_total,
            report.different_total) == (1_320_000, 7_000_000, 20_000)
    assert report.crm_total == 2_640_000 + 1_320_000 + 1_320_000 + 1_000_000 + 500_000


def test_the_page_maps_the_columns_shows_the_lists_and_downloads_the_csv(
        app, client, login, tmp_path, books):
    login()
    page = client.get("/accounting/reconciliation")
    assert page.status_code == 200
    start = _jalali(books["today"] - timedelta(days=1))
    with open(_accounting_file(tmp_path, books), "rb") as handle:
        sent = client.post("/accounting/reconciliation", data={
            "csrf_token": csrf_from(page), "start": start, "end": _jalali(books["today"]),
            "source": "file", "file": (handle, "documents.csv")},
            content_type="multipart/form-data")
    assert sent.status_code == 302 and "/columns" in sent.headers["Location"]
    columns = client.get(sent.headers["Location"])
    assert b'data-accounting-mapping' in columns.data
    mapped = client.post(sent.headers["Location"], data={
        "csrf_token": csrf_from(columns), "col_0": "number", "col_1": "date",
        "col_2": "amount"})
    assert mapped.status_code == 302
    report = client.get(mapped.headers["Location"])
    html = report.data.decode()
    assert 'data-list="missing_in_accounting"' in html
    assert f'data-number="CN-{books["note"]}"' in html
    assert 'data-number="1399-999"' in html
    assert 'data-what="amount"' in html and 'data-what="date"' in html
    download = client.get(mapped.headers["Location"].replace("/reconciliation?",
                                                             "/reconciliation.csv?"))
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows[0] == ["List", "Type", "Number", "CRM date", "Accounting date", "CRM amount",
                       "Accounting amount", "Difference"]
    assert [r[0:3] + r[5:] for r in rows[1:]] == [
        ["Missing in accounting", "Credit note", f"CN-{books['note']}", "1320000", "",
         "1320000"],
        ["Missing in the CRM", "Invoice", "1399-999", "", "7000000", "-7000000"],
        ["Different", "Invoice", books["second"], "1320000", "1300000", "20000"],
        ["Different", "Payment", "TR-1", "1000000", "1000000", "0"]]
    # The mapping is remembered for the next document file.
    with open(_accounting_file(tmp_path, books), "rb") as handle:
        again = client.post("/accounting/reconciliation", data={
            "csrf_token": csrf_from(page), "start": start, "end": _jalali(books["today"]),
            "source": "file", "file": (handle, "documents.csv")},
            content_type="multipart/form-data")
    assert b"data-remembered" in client.get(again.headers["Location"]).data


def test_the_settlements_pulled_over_rest_are_compared_with_the_payments(
        app, client, login, books):
    from core.database import set_setting
    from modules.accounting_link.imports import URL_SETTING

    login()
    today = books["today"].isoformat()
    with SettlementServer([{"invoice": books["first"], "amount": 1000000, "date": today,
                            "method": "transfer", "reference": "TR-1"},
                           {"invoice": books["first"], "amount": 90000, "date": today,
                            "method": "card", "reference": "TR-9"}]) as server:
        with app.app_context():
            set_setting(URL_SETTING, server.url)
            db.session.commit()
        page = client.get("/accounting/reconciliation", query_string={
            "from": _jalali(books["today"]), "to": _jalali(books["today"]), "source": "rest"})
    html = page.data.decode()
    assert 'data-number="TR-9"' in html  # settled in accounting, not in the CRM
    assert f'data-number="PAY-{books["cash"]}"' in html  # a CRM payment accounting lacks
    assert 'data-list="different"' not in html  # TR-1 matches
