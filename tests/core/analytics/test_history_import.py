"""Importing a sales history into the purchases fact: matching, idempotency, rejects by line."""

import io

import pytest


@pytest.fixture
def customers(app):
    from core.customers.services import create_customer
    from core.extensions import db
    from tests.core.customers.conftest import national_code

    with app.app_context():
        a = create_customer(first_name="علی", last_name="کریمی", mobiles=["09123456789"])
        b = create_customer(first_name="مینا", last_name="صادقی", emails=["mina@example.ir"],
                            national_code=national_code("001234567"))
        db.session.commit()
        return a.id, b.id, national_code("001234567")


def _lines(text: str):
    return io.StringIO(text, newline="")


def _purchases(app):
    from sqlalchemy import select

    from core.analytics.models import Purchase
    from core.extensions import db

    with app.app_context():
        return [(p.customer_id, p.amount, p.occurred_at.date().isoformat(), p.source, p.reference)
                for p in db.session.execute(select(Purchase).order_by(Purchase.id)).scalars()]


def test_rows_match_customers_by_mobile_email_code_and_id(app, customers):
    from core.analytics.history import check_file, import_history
    from core.extensions import db

    a, b, code = customers
    text = ("موبایل,ایمیل,کد ملی,شناسه مشتری,تاریخ,مبلغ,شماره فاکتور\n"
            "۰۹۱۲ ۳۴۵ ۶۷۸۹,,,,1404/02/15,\"۱٬۲۵۰٬۰۰۰\",F-1\n"
            f",MINA@example.ir,,,2025-06-01,300000,F-2\n"
            f",,{code},,2025-06-02,-50000,F-3\n"
            f",,,{a},2025-07-01,90000,\n"
            "09120000000,,,,2025-07-01,100,F-5\n"
            ",mina@example.ir,,,1404/13/01,100,F-6\n"
            ",mina@example.ir,,,2025-07-01,a lot,F-7\n")
    with app.app_context():
        assert check_file(_lines(text)) == 7
        result = import_history(_lines(text))
        db.session.commit()
    assert (result.recorded, result.already) == (4, 0)
    assert [line for line, _reason in result.rejected] == [6, 7, 8]
    assert "No customer matches" in result.rejected[0][1]
    assert _purchases(app) == [
        (a, 1_250_000, "2025-05-05", "import", "F-1"),
        (b, 300_000, "2025-06-01", "import", "F-2"),
        (b, -50_000, "2025-06-02", "import", "F-3"),
        (a, 90_000, "2025-07-01", "import", ""),
    ]


def test_importing_the_same_file_twice_adds_nothing(app, customers):
    from core.analytics.history import import_history
    from core.extensions import db

    text = ("mobile,date,amount\n09123456789,2025-01-01,1000\n09123456789,2025-01-02,2000\n"
            "09123456789,2025-01-02,2000\n")
    with app.app_context():
        first = import_history(_lines(text))
        db.session.commit()
        second = import_history(_lines(text))
        db.session.commit()
    assert (first.recorded, first.already) == (2, 1)  # the third row repeats the second
    assert (second.recorded, second.already) == (0, 3)
    assert len(_purchases(app)) == 2


def test_dry_run_writes_nothing(app, customers):
    from core.analytics.history import import_history
    from core.extensions import db

    with app.app_context():
        result = import_history(_lines("mobile,date,amount\n09123456789,2025-01-01,1000\n"),
                                dry_run=True)
        db.session.commit()
    assert result.recorded == 1
    assert _purchases(app) == []


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("name,date,amount\nx,2025-01-01,1\n", "customer_id / mobile"),
    ("mobile,amount\n0912,1\n", "date"),
    ('mobile,date,amount\n"09123456789,2025-01-01,1\n', "cannot be read"),
])
def test_a_broken_file_is_refused_before_anything_is_written(app, text, reason):
    from core.analytics.history import HistoryFileError, check_file

    with app.app_context(), pytest.raises(HistoryFileError, match=reason):
        check_file(_lines(text))


def test_progress_is_reported_in_steps(app, customers):
    from core.analytics.history import import_history

    steps = []
    rows = "".join(f"09123456789,2025-01-{d:02d},{d}\n" for d in range(1, 8))
    with app.app_context():
        import_history(_lines("mobile,date,amount\n" + rows), on_progress=steps.append, every=3)
    assert steps == [3, 3, 1]


def test_upload_page_imports_with_progress_and_lists_rejected_lines(app, client, make_user,
                                                                   login, customers):
    import re
    from pathlib import Path

    from tests.conftest import csrf_from

    make_user("admin@example.ir", role="admin", locale="en")
    login("admin@example.ir")
    page = client.get("/analytics/history")
    text = "mobile,date,amount,reference\n09123456789,1404/01/10,5000,R-1\n0912,x,1,R-2\n"
    response = client.post("/analytics/history", data={
        "csrf_token": csrf_from(page), "file": (io.BytesIO(text.encode("utf-8-sig")), "h.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    job_url = response.headers["Location"]
    result = client.get(job_url).get_data(as_text=True)  # jobs run inline in tests
    assert 'data-recorded="1"' in result and 'data-rejected="1"' in result
    assert re.search(r"<td>3</td><td>[^<]*mobile", result)
    assert len(_purchases(app)) == 1
    partial = client.get(job_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "hx-get" not in partial  # done: it stops polling
    assert not list(Path(app.config["CRM_UPLOAD_DIR"]).glob("history-*"))  # upload removed


def test_an_agent_without_import_permission_cannot_upload(client, make_user, login):
    make_user("agent@example.ir", role="agent")
    login("agent@example.ir")
    assert client.get("/analytics/history").status_code == 403


def test_someone_elses_import_is_not_found(app, client, make_user, login):
    from core.extensions import db
    from core.jobs.progress import JobProgress

    make_user("admin@example.ir", role="admin")
    with app.app_context():
        job_id = JobProgress.create("analytics.history_import", created_by=999).id
        db.session.commit()
    login("admin@example.ir")
    assert client.get(f"/analytics/history/{job_id}").status_code == 404


def test_cli_imports_reports_rejected_lines_and_refuses_a_broken_file(app, runner, customers,
                                                                      tmp_path):
    good = tmp_path / "history.csv"
    good.write_text("mobile,date,amount\n09123456789,2025-01-01,1000\nnobody,2025-01-01,5\n",
                    encoding="utf-8")
    dry = runner.invoke(args=["crm", "import", "purchases", str(good), "--dry-run"])
    assert "1 purchases would be recorded" in dry.output and _purchases(app) == []
    result = runner.invoke(args=["crm", "import", "purchases", str(good)])
    assert result.exit_code == 1  # a line was rejected
    assert "line 3:" in result.output and "1 purchases recorded" in result.output
    assert len(_purchases(app)) == 1
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"mobile,date,amount\n\xff\xfe09123456789,2025-01-02,1\n")
    refused = runner.invoke(args=["crm", "import", "purchases", str(broken)])
    assert refused.exit_code == 1 and "Nothing was recorded" in refused.output
    assert len(_purchases(app)) == 1
