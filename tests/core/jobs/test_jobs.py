"""Jobs: inline semantics (after commit in a request), module gating, periodic registry,
progress reporting, queue status, and the worker command in inline mode."""

import pytest
from flask import Blueprint
from sqlalchemy import create_engine, select, text

from core import jobs, outbox
from core.auth.permissions import public
from core.database import get_setting, set_setting
from core.extensions import db
from core.jobs.progress import JobProgress, JobRecord
from tests.conftest import csrf_from

RAN: list = []


def remember(value):
    """A job: records what it saw, including whether the setting is committed already."""
    RAN.append(value)


def committed_value(uri: str, options: dict):
    """A job: reads the setting ``k`` through a separate connection (committed data only)."""
    engine = create_engine(uri, **options)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM core_setting WHERE key = 'k'")).scalar()
    engine.dispose()
    RAN.append(str(value).strip('"'))


@jobs.job(module="marketing")
def marketing_job():
    RAN.append("marketing ran")
    return "done"


@pytest.fixture(autouse=True)
def _reset():
    RAN.clear()


@pytest.fixture
def app_overrides():
    return {"CRM_MODULES": ["sales", "service"]}  # marketing is not loaded, hence inactive


@pytest.fixture
def with_views(app):
    """A tiny blueprint whose views enqueue jobs, to see when they run."""
    bp = Blueprint("jobtest", __name__)

    @bp.route("/jobtest/commit", methods=["POST"])
    @public
    def commit_view():
        set_setting("k", "v1")
        jobs.enqueue(committed_value, app.config["SQLALCHEMY_DATABASE_URI"],
                     app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        jobs.enqueue(remember, "after")
        RAN.append("view done")
        db.session.commit()
        return "ok"

    @bp.route("/jobtest/rollback", methods=["POST"])
    @public
    def rollback_view():
        set_setting("k", "v2")
        jobs.enqueue(remember, "never")
        db.session.rollback()
        jobs.enqueue(remember, "after rollback, no transaction")
        return "ok"

    app.register_blueprint(bp)
    from core.extensions import csrf

    csrf.exempt(commit_view)
    csrf.exempt(rollback_view)
    return app


def test_inline_outside_a_request_runs_at_once(app):
    with app.app_context():
        assert jobs.is_inline() and jobs.queue_status() == "inline"
        jobs.enqueue(remember, 1)
        assert RAN == [1]


def test_inline_in_a_request_runs_after_the_commit(with_views, client):
    assert client.post("/jobtest/commit").status_code == 200
    assert RAN == ["view done", "v1", "after"]


def test_a_rolled_back_request_drops_its_jobs(with_views, client):
    assert client.post("/jobtest/rollback").status_code == 200
    assert RAN == ["after rollback, no transaction"]
    with with_views.app_context():
        assert get_setting("k") is None


def test_jobs_must_be_importable_functions(app):
    with app.app_context(), pytest.raises(ValueError, match="module-level functions"):
        jobs.enqueue(lambda: None)


def test_a_job_of_an_inactive_module_does_nothing(app):
    with app.test_request_context():
        assert marketing_job() is None
        assert RAN == []


def test_periodic_registry_refuses_a_name_taken_by_another_function(app):
    jobs.periodic("test.marketing", 60, marketing_job)
    jobs.periodic("test.marketing", 30, marketing_job)  # same function: interval updated
    assert jobs.periodic_jobs()["test.marketing"].every == 30
    with pytest.raises(ValueError, match="already registered"):
        jobs.periodic("test.marketing", 60, committed_value)
    with pytest.raises(ValueError, match="at least one second"):
        jobs.periodic("test.zero", 0, marketing_job)
    assert "outbox.relay" in jobs.periodic_jobs()


def test_worker_command_in_inline_mode_runs_periodic_jobs(app, runner):
    delivered = []

    @outbox.handler("test.jobs.worker")
    def deliver(payload, message):
        delivered.append(payload["n"])

    with app.app_context():
        outbox.enqueue("test.jobs.worker", {"n": 1})
        db.session.commit()
    result = runner.invoke(args=["crm", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "inline mode" in result.output
    assert delivered == [1]


def test_progress_is_visible_to_its_creator_and_admins_only(app, make_user, client, login):
    owner = make_user("owner@example.ir", role="agent")
    make_user("other@example.ir", role="agent")
    make_user("admin@example.ir", role="admin")
    with app.app_context():
        progress = JobProgress.create("customers.import", total=4, created_by=owner)
        db.session.commit()
        job_id = progress.id
        progress.start(message="reading the file")
        progress.advance(3, message="row 3")
    login("owner@example.ir")
    data = client.get(f"/jobs/{job_id}").json
    assert (data["status"], data["done"], data["total"], data["percent"]) == ("running", 3, 4, 75)
    partial = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in partial and "<progress" in partial
    with app.app_context():
        JobProgress.get(job_id).finish(result={"created": 4})
    partial = client.get(f"/jobs/{job_id}?format=html").get_data(as_text=True)
    assert "hx-trigger" not in partial and 'data-job-status="done"' in partial
    assert client.get(f"/jobs/{job_id}").json["result"] == {"created": 4}

    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/"))})
    login("other@example.ir")
    assert client.get(f"/jobs/{job_id}").status_code == 404
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/"))})
    login("admin@example.ir")
    assert client.get(f"/jobs/{job_id}").json["status"] == "done"


def test_failed_progress_rolls_back_the_unfinished_batch(app):
    with app.app_context():
        progress = JobProgress.create("recompute")
        db.session.commit()
        set_setting("half.done", True)
        progress.fail("row 7: no name")
        record = db.session.get(JobRecord, progress.id)
        assert (record.status, record.message) == ("failed", "row 7: no name")
        assert get_setting("half.done") is None
        assert db.session.scalar(select(JobRecord.finished_at)) is not None


def test_healthz_reports_the_queue(client):
    data = client.get("/healthz").json
    assert data["queue"] == "inline"
