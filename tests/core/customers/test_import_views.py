"""Import pages: upload, column mapping (remembered), preview, dry run, the job with its
summary and rejected-rows report; only for users with ``customers.import``, each their own."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from core.customers.models import Customer
from core.extensions import db
from tests.conftest import csrf_from
from tests.core.customers.conftest import national_code

CSV = ("نام,نام خانوادگی,تلفن همراه,ایمیل,کد ملی,یادداشت\n"
       f"علی,کریمی,۰۹۱۲ ۳۴۵ ۶۷۸۹,ali@example.ir,{national_code()},مشتری قدیمی\n"
       "مریم,احمدی,0912,,,\n"
       "رضا,رضایی,09351112233,,,\n").encode("utf-8-sig")


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


def upload(client, content=CSV, name="customers.csv"):
    page = client.get("/customers/import")
    return client.post("/customers/import", data={
        "csrf_token": csrf_from(page), "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data")


def selected(html: str) -> dict[str, str]:
    """data-header → the selected target of each column's select."""
    found = {}
    for header, body in re.findall(r'data-header="([^"]*)"[^>]*>(.*?)</select>', html, re.S):
        choice = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                           body)
        found[header] = next(g for g in choice.groups() if g is not None) if choice else None
    return found


def map_columns(client, mapping_url, targets):
    page = client.get(mapping_url)
    data = {"csrf_token": csrf_from(page)}
    data.update({f"col_{i}": t for i, t in enumerate(targets)})
    return client.post(mapping_url, data=data)


def run(client, token, dry_run):
    page = client.get(f"/customers/import/{token}/preview")
    response = client.post(f"/customers/import/{token}/run", data={
        "csrf_token": csrf_from(page), "dry_run": "1" if dry_run else "0"})
    assert response.status_code == 302
    return response.headers["Location"]


def no_latin_digits(html: str) -> str:
    from tests.core.test_translations import latin_in

    assert not [w for w in latin_in(html) if w.isdigit()]
    return html


def in_persian(app, *messages):
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("fa"):
        return [gettext(m) for m in messages]


def customer_count(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Customer)).scalar()


def test_upload_map_preview_dry_run_then_import_with_a_report(app, admin):
    response = upload(admin)
    assert response.status_code == 302
    mapping_url = response.headers["Location"]
    token = mapping_url.rsplit("/", 1)[-1]
    page = no_latin_digits(admin.get(mapping_url).get_data(as_text=True))
    assert selected(page) == {"نام": "first_name", "نام خانوادگی": "last_name",
                              "تلفن همراه": "mobile", "ایمیل": "email",
                              "کد ملی": "national_code", "یادداشت": ""}
    assert "data-remembered" not in page
    targets = ["first_name", "last_name", "mobile", "email", "national_code", "source"]
    response = map_columns(admin, mapping_url, targets)
    assert response.headers["Location"].endswith(f"/customers/import/{token}/preview")

    preview = no_latin_digits(admin.get(f"/customers/import/{token}/preview")
                              .get_data(as_text=True))
    assert re.findall(r'data-line="(\d+)" data-outcome="(\w+)"', preview) == [
        ("2", "created"), ("3", "rejected"), ("4", "created")]
    assert "۰۹۱۲ ۳۴۵ ۶۷۸۹" in preview  # normalised, shown in Persian digits

    job_page = admin.get(run(admin, token, dry_run=True)).get_data(as_text=True)
    assert 'data-job-status="done"' in job_page and "data-dry-run-note" in job_page
    assert re.search(r'data-count="created">۲<', job_page)
    assert customer_count(app) == 0

    job_url = run(admin, token, dry_run=False)
    job_page = no_latin_digits(admin.get(job_url).get_data(as_text=True))
    assert re.search(r'data-count="created">۲<', job_page)
    assert re.search(r'data-count="rejected">۱<', job_page)
    assert customer_count(app) == 2
    with app.app_context():
        ali = db.session.execute(select(Customer).where(Customer.first_name == "علی")).scalar()
        assert ali.source == "مشتری قدیمی" and ali.values("mobile") == ["+989123456789"]
    status = admin.get(job_url + "/status", headers={"HX-Request": "true"})
    assert status.status_code == 200 and "data-import-summary" in status.get_data(as_text=True)
    report = admin.get(job_url + "/rejected.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert [rows[0][0], rows[0][-1]] == in_persian(app, "Line", "Reason")
    assert rows[0][1:-1] == ["نام", "نام خانوادگی", "تلفن همراه", "ایمیل", "کد ملی", "یادداشت"]
    assert rows[1][:3] == ["3", "مریم", "احمدی"] and "0912" in rows[1][-1]

    # The same columns again: the mapping chosen above is offered, not the guess.
    second = upload(admin, CSV.replace("علی".encode(), "حسن".encode()))
    page = admin.get(second.headers["Location"]).get_data(as_text=True)
    assert "data-remembered" in page and selected(page)["یادداشت"] == "source"


def test_a_broken_file_fails_the_job_and_imports_nothing(app, admin):
    broken = CSV + "بهرام,بهرامی,09120000000\n".encode()
    token = upload(admin, broken).headers["Location"].rsplit("/", 1)[-1]
    map_columns(admin, f"/customers/import/{token}",
                ["first_name", "last_name", "mobile", "email", "national_code", ""])
    page = admin.get(run(admin, token, dry_run=False)).get_data(as_text=True)
    assert 'data-job-status="failed"' in page and "data-import-failed" in page
    message = re.search(r"data-job-message>([^<]*)<", page).group(1)
    assert "۵" in message and "5" not in message  # the line, in Persian digits
    assert customer_count(app) == 0


def test_a_file_without_column_names_is_refused_at_upload(admin):
    page = upload(admin, "09123456789,علی\n".encode()).get_data(as_text=True)
    assert re.search(r'data-field="file".*?is-invalid.*?invalid-feedback', page, re.S)
    assert "09123456789" in page  # the message quotes what it found on line 1


def test_english_pages(app, make_user, login):
    make_user("en@example.ir", locale="en")
    client = login("en@example.ir")
    page = client.get("/customers/import").get_data(as_text=True)
    assert "Import customers" in page and "Match the columns" in page
    token = upload(client).headers["Location"].rsplit("/", 1)[-1]
    assert "Goes to" in client.get(f"/customers/import/{token}").get_data(as_text=True)


def test_agents_without_the_import_permission_are_refused(client, make_user, login):
    make_user("agent@example.ir", role="agent")
    login("agent@example.ir")
    assert client.get("/customers/import").status_code == 403
    assert "data-import" not in client.get("/customers/").get_data(as_text=True)


def test_uploads_and_jobs_belong_to_who_started_them(app, client, make_user, login):
    make_user("admin@example.ir")
    make_user("manager@example.ir", role="manager")
    login("admin@example.ir")
    token = upload(client).headers["Location"].rsplit("/", 1)[-1]
    map_columns(client, f"/customers/import/{token}",
                ["first_name", "last_name", "mobile", "email", "national_code", ""])
    job_url = run(client, token, dry_run=True)
    client = app.test_client()  # the manager, in another browser
    page = client.get("/auth/login")
    client.post("/auth/login", data={"email": "manager@example.ir", "csrf_token": csrf_from(page),
                                     "password": "correct horse battery"})
    assert client.get("/customers/import").status_code == 200
    assert client.get(f"/customers/import/{token}").status_code == 404
    assert client.get(f"/customers/import/{token}/preview").status_code == 404
    assert client.get(job_url).status_code == 404
    assert client.get(job_url + "/rejected.csv").status_code == 404


def test_an_excel_workbook_through_the_pages(app, admin):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["First name", "Last name", "Mobile", "Notes"])
    book.active.append(["Ali", "Karimi", 9123456789, "x"])
    content = io.BytesIO()
    book.save(content)
    response = upload(admin, content.getvalue(), "customers.xlsx")
    token = response.headers["Location"].rsplit("/", 1)[-1]
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert selected(page) == {"First name": "first_name", "Last name": "last_name",
                              "Mobile": "mobile", "Notes": ""}
    map_columns(admin, f"/customers/import/{token}", ["first_name", "last_name", "mobile", ""])
    admin.get(run(admin, token, dry_run=False))
    with app.app_context():
        customer = db.session.execute(select(Customer)).scalar()
        assert customer.display_name == "Ali Karimi"
        assert customer.values("mobile") == ["+989123456789"]


def test_other_files_are_refused_at_upload(admin):
    page = upload(admin, b"%PDF-1.4", "customers.pdf").get_data(as_text=True)
    assert re.search(r'data-field="file".*?is-invalid', page, re.S)
