"""The RQ path against a real Redis (CRM_TEST_REDIS_URL): jobs run in a worker with an app
context, periodic ticks are claimed once across workers, ``crm worker --burst`` works."""

import os
import uuid

import pytest
from flask import current_app, has_app_context
from rq.job import Job

from core import jobs, outbox
from core.database import get_setting, set_setting
from core.extensions import db
from core.jobs.cli import AppWorker, tick

REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL")
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CRM_TEST_REDIS_URL "
                                              "(e.g. redis://127.0.0.1:6379/0)"),
]


def app_info(marker: str) -> dict:
    """A job: proves it ran in the app (config, database) and commits a setting."""
    set_setting("rq.marker", marker)
    db.session.commit()
    return {"app_context": has_app_context(), "upload_dir": current_app.config["CRM_UPLOAD_DIR"],
            "pid": os.getpid()}


@pytest.fixture
def app_overrides():
    return {"REDIS_URL": REDIS_URL, "JOBS_INLINE": False,
            "JOBS_QUEUE": f"test-{uuid.uuid4().hex[:10]}"}


@pytest.fixture
def redis_queue(app):
    with app.app_context():
        queue = jobs.queue()
        connection = jobs.redis_connection()
    yield queue
    queue.delete(delete_jobs=True)
    for key in connection.scan_iter(f"{queue.name}:periodic:*"):
        connection.delete(key)


def test_job_runs_in_a_worker_with_an_app_context(app, redis_queue):
    with app.app_context():
        assert not jobs.is_inline()
        assert jobs.queue_status() == "ok (0 queued)"
        rq_job = jobs.enqueue(app_info, "from-rq")
        assert isinstance(rq_job, Job)
        assert jobs.queue_status() == "ok (1 queued)"
    worker = AppWorker([redis_queue.name], connection=redis_queue.connection, app=app)
    assert worker.work(burst=True)
    rq_job.refresh()
    assert rq_job.get_status() == "finished", rq_job.latest_result()
    result = rq_job.return_value()
    assert result["app_context"] is True
    assert result["upload_dir"] == app.config["CRM_UPLOAD_DIR"]
    assert result["pid"] != os.getpid()  # ran in a forked work horse
    with app.app_context():
        assert get_setting("rq.marker") == "from-rq"


def test_a_periodic_tick_is_claimed_by_one_worker_only(app, redis_queue):
    now = 1_700_000_000.0
    first = tick(app, now=now)
    second = tick(app, now=now + 0.5)  # another worker, same tick
    assert "outbox.relay" in first
    assert "outbox.relay" not in second
    every = jobs.periodic_jobs()["outbox.relay"].every
    third = tick(app, now=now + every)
    assert "outbox.relay" in third  # the next tick runs again
    assert redis_queue.count == len(first) + len(second) + len(third)


def test_worker_command_burst_runs_the_relay_in_rq(app, runner, redis_queue):
    @outbox.handler("test.rq.worker")
    def deliver(payload, message):
        assert has_app_context()

    with app.app_context():
        outbox.enqueue("test.rq.worker", {"n": 7})
        db.session.commit()
    result = runner.invoke(args=["crm", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    with app.app_context():  # delivered in the forked horse, so look at the database
        assert outbox.status_counts()["delivered"] == 1


def test_queue_status_reports_an_unreachable_redis(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("crm_redis", None)
    with app.app_context():
        assert jobs.queue_status().startswith("error: ")
    assert app.test_client().get("/healthz").status_code == 503
