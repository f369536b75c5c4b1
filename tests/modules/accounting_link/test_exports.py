"""CSV and XLSX exports of the journal: the documented layout, exact for a known journal, and
the download page (period or fiscal year, errors, audit)."""

import io
from datetime import date, datetime

import pytest
from flask_babel import force_locale

from core.extensions import db
from tests.modules.accounting_link.export_helpers import known_journal

FIRST, LAST = date(2025, 3, 21), date(2025, 4, 20)  # 1404/01/01 - 1404/01/31
RECEIVABLES, REVENUE, VAT, CARD = ("حساب‌های دریافتنی تجاری", "فروش کالا و خدمات",
                                   "مالیات بر ارزش افزوده پرداختنی", "بانک - کارت‌خوان")


@pytest.fixture
def journal(app):
    return known_journal(app)


def expected_rows(customer: str) -> list[list]:
    return [
        [1404, 1, "1404/01/05", date(2025, 3, 25), "1104", RECEIVABLES, 1_100_000, 0,
         "Invoice 1404-1 to آلفا", "1404-1", "sales.invoice", 7, customer, "invoice"],
        [1404, 1, "1404/01/05", date(2025, 3, 25), "4101", REVENUE, 0, 1_000_000,
         "Invoice 1404-1 to آلفا", "1404-1", "sales.invoice", 7, customer, "invoice"],
        [1404, 1, "1404/01/05", date(2025, 3, 25), "2105", VAT, 0, 100_000,
         "Invoice 1404-1 to آلفا", "1404-1", "sales.invoice", 7, customer, "invoice"],
        [1404, 2, "1404/01/20", date(2025, 4, 9), "1102", CARD, 600_000, 0,
         "Card payment, first instalment", "TRK-55", "sales.payment", 3, customer, "payment"],
        [1404, 2, "1404/01/20", date(2025, 4, 9), "1104", RECEIVABLES, 0, 600_000,
         'Card "A", first part', "TRK-55", "sales.payment", 3, customer, "payment"],
    ]


def test_csv_is_exact_utf8_with_bom_one_row_per_line(app, journal):
    from modules.accounting_link.exports import export_csv

    with app.test_request_context():
        body = export_csv(FIRST, LAST)
    assert body.startswith(b"\xef\xbb\xbf")
    customer = str(journal["customer"])
    assert body.decode("utf-8") == (
        "\ufefffiscal_year,entry_number,date_jalali,date_gregorian,account_code,account_name,"
        "debit,credit,description,reference,document_type,document_id,customer_code,"
        "entry_kind\r\n"
        f"1404,1,1404/01/05,2025-03-25,1104,{RECEIVABLES},1100000,0,Invoice 1404-1 to آلفا,"
        f"1404-1,sales.invoice,7,{customer},invoice\r\n"
        f"1404,1,1404/01/05,2025-03-25,4101,{REVENUE},0,1000000,Invoice 1404-1 to آلفا,"
        f"1404-1,sales.invoice,7,{customer},invoice\r\n"
        f"1404,1,1404/01/05,2025-03-25,2105,{VAT},0,100000,Invoice 1404-1 to آلفا,"
        f"1404-1,sales.invoice,7,{customer},invoice\r\n"
        f'1404,2,1404/01/20,2025-04-09,1102,{CARD},600000,0,"Card payment, first instalment",'
        f"TRK-55,sales.payment,3,{customer},payment\r\n"
        f'1404,2,1404/01/20,2025-04-09,1104,{RECEIVABLES},0,600000,"Card ""A"", first part",'
        f"TRK-55,sales.payment,3,{customer},payment\r\n")


def test_csv_period_includes_both_ends_reads_back_balanced_and_must_run_forwards(app, journal):
    import csv

    from modules.accounting_link.exports import ExportError, export_csv

    with app.test_request_context():
        one_day = export_csv(date(2025, 4, 9), date(2025, 4, 9))
        year = export_csv(date(2025, 3, 21), date(2026, 3, 20))
        empty = export_csv(date(2025, 5, 1), date(2025, 5, 31))
    rows = list(csv.DictReader(io.StringIO(one_day.decode("utf-8-sig"))))
    assert [(r["entry_number"], r["account_code"]) for r in rows] == [("2", "1102"), ("2", "1104")]
    rows = list(csv.DictReader(io.StringIO(year.decode("utf-8-sig"))))
    assert [r["entry_number"] for r in rows] == ["1", "1", "1", "2", "2", "3", "3"]
    assert sum(int(r["debit"]) for r in rows) == sum(int(r["credit"]) for r in rows) == 1_750_000
    assert rows[-1]["customer_code"] == "" and rows[-1]["entry_kind"] == "points_issued"
    assert empty.decode("utf-8-sig").count("\r\n") == 1  # the header only
    with app.test_request_context(), force_locale("en"), pytest.raises(ExportError) as exc:
        export_csv(LAST, FIRST)
    assert str(exc.value) == "The period ends before it starts."


def test_xlsx_reads_back_exactly_with_headers_in_the_users_language(app, journal):
    from openpyxl import load_workbook

    from modules.accounting_link.exports import export_xlsx

    with app.test_request_context(), force_locale("en"):
        english = export_xlsx(FIRST, LAST)
    with app.test_request_context(), force_locale("fa"):
        persian = export_xlsx(FIRST, LAST)
    sheet = load_workbook(io.BytesIO(english)).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Fiscal year", "Entry number", "Date (Jalali)", "Date (Gregorian)",
                       "Account code", "Account name", "Debit", "Credit", "Description",
                       "Reference", "Document type", "Document id", "Customer code",
                       "Entry kind"]
    expected = expected_rows(str(journal["customer"]))
    for row in expected:
        row[3] = datetime.combine(row[3], datetime.min.time())
    assert rows[1:] == expected
    assert not sheet.sheet_view.rightToLeft
    fa_sheet = load_workbook(io.BytesIO(persian)).active
    assert fa_sheet.sheet_view.rightToLeft
    assert [list(r) for r in fa_sheet.iter_rows(min_row=2, values_only=True)] == expected


# --- the page ------------------------------------------------------------------------------

@pytest.fixture
def admin(app, make_user, login, journal):
    make_user(seats=["accounting_link"], locale="en")
    return login()


def _audit(app):
    from sqlalchemy import select

    from core.audit import AuditLog

    with app.app_context():
        return list(db.session.execute(select(AuditLog).where(
            AuditLog.action == "accounting_link.export")).scalars())


def test_page_offers_the_fiscal_years_and_formats(client, admin):
    page = client.get("/accounting/exports")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="1404" >1404 — 3 entries' in text  # 1405, this year, is selected
    assert 'value="1403" >1403 — 1 entry' in text
    for fmt in ("csv", "xlsx", "beancount"):
        assert f'id="format-{fmt}"' in text
    assert "<code dir=\"ltr\">customer_code</code>" in text


def test_download_a_jalali_period_as_csv_is_audited(app, client, admin):
    from modules.accounting_link.exports import export_csv

    response = client.get("/accounting/exports/download", query_string={
        "period": "dates", "from": "۱۴۰۴/۰۱/۰۱", "to": "1404/01/31", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=journal-14040101-14040131.csv")
    with app.test_request_context():
        assert response.data == export_csv(FIRST, LAST)
    [row] = _audit(app)
    assert row.detail == {"format": "csv", "from": "1404/01/01", "to": "1404/01/31",
                          "entries": 2, "lines": 5}
    assert row.target == "journal:2025-03-21..2025-04-20"


def test_download_a_fiscal_year_as_beancount_and_xlsx(app, client, admin):
    from openpyxl import load_workbook

    ledger = client.get("/accounting/exports/download", query_string={
        "period": "year", "year": "1404", "format": "beancount"})
    assert ledger.status_code == 200
    assert ledger.mimetype == "text/plain"
    text = ledger.get_data(as_text=True)
    assert 'option "operating_currency" "IRR"' in text and text.count(" * ") == 3
    book = client.get("/accounting/exports/download", query_string={
        "period": "year", "year": "1404", "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(book.data)).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 7
    assert [r.detail["format"] for r in _audit(app)] == ["beancount", "xlsx"]


def test_wrong_input_and_an_empty_period_say_what_to_do(app, client, admin):
    bad = client.get("/accounting/exports/download", query_string={
        "period": "dates", "from": "1404/13/01", "to": "", "format": "pdf"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "has no month 13" in text and "Enter a Jalali date like 1404/01/01." in text
    assert "Choose one of the formats." in text
    backwards = client.get("/accounting/exports/download", query_string={
        "from": "1404/02/01", "to": "1404/01/01"})
    assert "The period ends before it starts." in backwards.get_data(as_text=True)
    empty = client.get("/accounting/exports/download", query_string={
        "from": "1404/05/01", "to": "1404/05/31", "format": "csv"})
    assert empty.status_code == 404
    assert ("Nothing was posted from 1404/05/01 to 1404/05/31; choose another period."
            in empty.get_data(as_text=True))
    assert _audit(app) == []


def test_exports_need_the_view_permission(app, client, make_user, login, journal):
    make_user("agent@example.ir", role="agent", seats=["sales"], locale="en")
    login("agent@example.ir")
    assert client.get("/accounting/exports").status_code in (403, 404)
    assert client.get("/accounting/exports/download", query_string={
        "period": "year", "year": "1404"}).status_code in (403, 404)
    assert _audit(app) == []
