"""In a real browser (fa): import a CSV, map a column, watch the job's progress, read the
summary and download the rejected rows.

The job is queued in Redis (as in production) and run here, as a worker would run it, while
the page polls: so the test sees the page go from "waiting" to the summary through htmx.
"""

import csv
import os
import uuid

import pytest

from tests.browser import assert_clean, shot, sign_in
from tests.conftest import require_service

REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL")
CSV = ("نام,نام خانوادگی,تلفن همراه,ایمیل,یادداشت\n"
       "علی,کریمی,۰۹۱۲ ۳۴۵ ۶۷۸۹,ali@example.ir,نمایشگاه کتاب\n"
       "مریم,احمدی,0912,maryam@example.ir,\n"
       "رضا,رضایی,09351112233,,تماس تلفنی\n")


@pytest.fixture
def app_overrides():
    return {"REDIS_URL": REDIS_URL, "JOBS_INLINE": False,
            "JOBS_QUEUE": f"test-{uuid.uuid4().hex[:10]}"}


def run_queued_jobs(app) -> int:
    """What ``crm worker --burst`` does with the queue, in this process."""
    from core import jobs

    with app.app_context():
        queue = jobs.queue()
        queued = queue.jobs
        for job in queued:
            jobs.run_job(*job.args, **job.kwargs)
        queue.delete(delete_jobs=True)
    return len(queued)


@pytest.mark.e2e
def test_import_a_csv_with_mapping_progress_and_rejected_rows(browser_page, live_server,
                                                              make_user, tmp_path):
    require_service("Redis", bool(REDIS_URL), "set CRM_TEST_REDIS_URL=redis://127.0.0.1:6379/0")
    make_user(name="مدیر")
    path = tmp_path / "مشتریان.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/customers/"))
    page.click("a[data-import]")
    page.set_input_files("input[type=file]", str(path))
    page.click("form[data-import-upload] button[type=submit]")

    page.wait_for_selector("form[data-import-mapping]")
    assert page.locator("select[data-header='تلفن همراه']").input_value() == "mobile"
    assert page.locator("select[data-header='یادداشت']").input_value() == ""
    page.select_option("select[data-header='یادداشت']", "source")
    shot(page, "customers-import-mapping-fa")
    page.click("form[data-import-mapping] button[type=submit]")

    page.wait_for_selector("table[data-preview]")
    assert page.locator("tr[data-outcome=rejected]").count() == 1
    assert page.locator("tr[data-line='3'][data-outcome=rejected]").count() == 1
    assert "۰۹۱۲ ۳۴۵ ۶۷۸۹" in page.locator("tr[data-line='2']").inner_text()
    shot(page, "customers-import-preview-fa")
    page.click("button[data-import-now]")

    progress = page.locator(".crm-job-progress")
    progress.wait_for()
    assert progress.get_attribute("data-job-status") == "queued"
    assert page.locator("progress").count() == 1
    assert run_queued_jobs(live_server.app) == 1
    page.wait_for_selector("[data-import-summary]")  # swapped in by the polling
    assert page.locator(".crm-job-progress").get_attribute("data-job-status") == "done"
    assert page.locator("[data-count=created]").inner_text().strip() == "۲"
    assert page.locator("[data-count=rejected]").inner_text().strip() == "۱"
    assert page.locator("table[data-rejected] tr[data-line='3']").count() == 1
    shot(page, "customers-import-done-fa")

    with page.expect_download() as download:
        page.click("a[data-rejected-report]")
    report = tmp_path / "rejected.csv"
    download.value.save_as(report)
    with open(report, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][1:-1] == ["نام", "نام خانوادگی", "تلفن همراه", "ایمیل", "یادداشت"]
    assert rows[1][:5] == ["3", "مریم", "احمدی", "0912", "maryam@example.ir"]
    assert "0912" in rows[1][-1] and len(rows) == 2

    page.goto(live_server("/customers/?q=علی کریمی"))
    assert page.locator("tr[data-customer]").count() == 1
    assert_clean(page)
