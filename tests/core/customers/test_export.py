"""Export of the current list view: same search and filters, CSV and XLSX, Persian intact."""

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


@pytest.fixture
def customers(make_customer):
    make_customer("admin@example.ir", first_name="علی", last_name="كريمي",
                  mobiles=["09123456789", "09350001122"], birthday=date(1991, 8, 3),
                  tags=["ویژه"])
    make_customer("admin@example.ir", kind="organisation", legal_name="شرکت پیوند")


def test_csv_export_follows_the_search(admin, customers):
    response = admin.get("/customers/export.csv?q=علی کریمی")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2
    header, row = rows
    record = dict(zip(header, row, strict=True))
    assert record["نام نمایشی"] == "علی كريمي"
    assert record["شماره‌های همراه"] == "+989123456789 +989350001122"
    assert record["تاریخ تولد"] == "1370/05/12" and record["برچسب‌ها"] == "ویژه"


def test_xlsx_export_of_organisations(admin, customers):
    response = admin.get("/customers/export.xlsx?kind=organisation")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 2 and "شرکت پیوند" in values[1]
    assert sheet.sheet_view.rightToLeft


def test_agents_without_the_export_permission_are_refused(client, make_user, login):
    make_user("agent@example.ir", role="agent")
    login("agent@example.ir")
    assert client.get("/customers/export.csv").status_code == 403
    assert 'data-export' not in client.get("/customers/").get_data(as_text=True)
