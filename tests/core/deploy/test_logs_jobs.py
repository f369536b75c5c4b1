"""An RQ job queued by a request logs with that request's id (real Redis, a forked worker)."""

import os
import uuid

import pytest

from core import jobs, logs
from core.jobs.cli import AppWorker

REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL")
pytestmark = pytest.mark.redis


def seen_request_id() -> str | None:
    """A job: the request id its log lines carry."""
    return logs.request_id()


@pytest.fixture
def app_overrides():
    return {"REDIS_URL": REDIS_URL, "JOBS_INLINE": False,
            "JOBS_QUEUE": f"test-{uuid.uuid4().hex[:10]}"}


def test_a_job_carries_the_request_id_of_the_request_that_queued_it(app):
    if not REDIS_URL:
        pytest.skip("needs Redis: set CRM_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    with app.test_request_context("/", headers={"X-Request-ID": "queued-by-req-42"}):
        app.preprocess_request()
        queued = jobs._dispatch(jobs.func_path(seen_request_id), (), {})
    with app.app_context():
        outside = jobs._dispatch(jobs.func_path(seen_request_id), (), {})
        queue = jobs.queue()
    try:
        assert queued.meta == {"request_id": "queued-by-req-42"} and outside.meta == {}
        assert AppWorker([queue.name], connection=queue.connection, app=app).work(burst=True)
        queued.refresh()
        outside.refresh()
        assert queued.return_value() == "queued-by-req-42"
        assert outside.return_value() is None
    finally:
        queue.delete(delete_jobs=True)
