"""Import pages: upload, match the columns (remembered per kind of import), preview, a trial
run, the import itself as a job with progress, the problem report, and the permission."""

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.accounting_link.import_helpers import CUSTOMER_HEADERS, write_csv
from tests.modules.sales.document_helpers import national_code


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def manager(make_user, login):
    make_user(seats=["sales", "accounting_link"])
    return login()


def _file(tmp_path, name="customers.csv", bad=False):
    rows = [[f"C{i}", f"مشتری {i}", national_code(f"00765432{i}"), "", f"0935000000{i}",
             "کرج", "1,000"] for i in range(1, 4)]
    if bad:
        rows[1][4] = "12345"  # not a mobile
    return write_csv(tmp_path / name, CUSTOMER_HEADERS, rows)


def _upload(client, path, kind="customers"):
    page = client.get("/accounting/imports")
    with open(path, "rb") as handle:
        sent = client.post("/accounting/imports", data={
            "csrf_token": csrf_from(page), "kind": kind, "file": (handle, "export.csv")},
            content_type="multipart/form-data")
    assert sent.status_code == 302, sent.data[:300]
    return sent.headers["Location"]


def _selected(html: str, column: int) -> str:
    select_html = re.search(rf'<select[^>]*id="col_{column}".*?</select>', html, re.S).group(0)
    found = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                      select_html)
    return next(g for g in found.groups() if g is not None)


def _run(client, preview_url, dry_run):
    preview = client.get(preview_url)
    run = client.post(preview_url.replace("/preview", "/run"), data={
        "csrf_token": csrf_from(preview), "dry_run": "1" if dry_run else "0"})
    assert run.status_code == 302
    return client.get(run.headers["Location"]).data.decode(), run.headers["Location"]


def test_upload_map_preview_try_and_import(app, manager, tmp_path):
    from core.customers.models import Customer

    client = manager
    mapping_url = _upload(client, _file(tmp_path))
    page = client.get(mapping_url)
    html = page.data.decode()
    assert [_selected(html, i) for i in range(7)] == [
        "code", "name", "national_id", "economic_code", "mobile", "city", "balance"]
    sent = client.post(mapping_url, data={
        "csrf_token": csrf_from(page), **{f"col_{i}": t for i, t in enumerate(
            ["code", "name", "national_id", "", "mobile", "city", ""])}})
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/preview")
    preview = client.get(sent.headers["Location"]).data.decode()
    assert preview.count('data-outcome="created"') == 3
    trial, _url = _run(client, sent.headers["Location"], dry_run=True)
    assert "data-dry-run-note" in trial
    assert re.search(r'data-count="created">3<', trial)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Customer)).scalar() == 0
    done, job_url = _run(client, sent.headers["Location"], dry_run=False)
    assert re.search(r'data-count="created">3<', done)
    assert 'data-job-status="done"' in done
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Customer)).scalar() == 3
    status = client.get(job_url + "/status")
    assert b'data-import-summary' in status.data
    # The choice is remembered for the next customers file: the two columns left out stay out.
    again = client.get(_upload(client, _file(tmp_path, "again.csv"))).data.decode()
    assert "data-remembered" in again
    assert [_selected(again, i) for i in (3, 6)] == ["", ""]


def test_a_file_with_a_bad_row_writes_nothing_and_lists_the_problem(app, manager, tmp_path):
    from core.customers.models import Customer

    client = manager
    mapping_url = _upload(client, _file(tmp_path, bad=True))
    page = client.get(mapping_url)
    sent = client.post(mapping_url, data={"csrf_token": csrf_from(page), **{
        f"col_{i}": t for i, t in enumerate(
            ["code", "name", "national_id", "economic_code", "mobile", "city", "balance"])}})
    preview = client.get(sent.headers["Location"]).data.decode()
    assert 'data-line="3" data-outcome="rejected"' in preview
    done, job_url = _run(client, sent.headers["Location"], dry_run=False)
    assert "data-nothing-written" in done
    assert 'data-line="3"' in done
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Customer)).scalar() == 0
    report = client.get(job_url + "/errors.csv")
    rows = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert rows[0] == ["Line", "Column", "Problem"]
    assert [r[:2] for r in rows[1:]] == [["3", "موبایل"]]
    assert rows[1][2].startswith("Mobile: ")


def test_imports_need_the_manage_permission(app, client, make_user, login):
    from core.admin.services import role_by_name

    with app.app_context():
        agent = role_by_name("agent")
        can_view = "accounting_link.view" in (agent.permissions or [])
    make_user("agent@example.ir", role="agent", seats=["accounting_link"])
    login("agent@example.ir")
    assert client.get("/accounting/imports").status_code == 403
    assert client.get("/accounting/reconciliation").status_code == (200 if can_view else 403)
