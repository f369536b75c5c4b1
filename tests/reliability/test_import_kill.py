"""A customer import whose worker is killed (SIGKILL) mid-run completes when the job runs again,
as RQ reruns it (``jobs.restartable``): every row once, nothing duplicated.

The killed process runs the real job with small batches and a pause after each, so the kill
lands between and inside batches; the second run is the job itself, unchanged.
"""

import json
import os
import signal
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import func, select

from core import jobs
from core.customers import import_jobs
from core.customers.models import ContactPoint, Customer
from core.extensions import db
from core.jobs.progress import JobProgress, JobRecord
from tests.conftest import REDIS_URL, require_service
from tests.reliability.services import ROOT, wait_until

ROWS = 300
BATCH = 20
WORKER = """
import functools, json, os, sys, time
sys.path.insert(0, os.environ["CRM_ROOT"])
from config import TestConfig
from core import create_app
from core.customers import import_jobs, importer
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=os.environ["CRM_DB"],
                 SQLALCHEMY_ENGINE_OPTIONS=json.loads(os.environ["CRM_ENGINE_OPTIONS"]),
                 CRM_UPLOAD_DIR=os.environ["CRM_UPLOAD_DIR"])
flush = importer._flush
def slow_flush(*args, **kwargs):
    flush(*args, **kwargs)
    time.sleep(0.1)
importer._flush = slow_flush
batch = int(os.environ["CRM_BATCH"])
import_jobs.run_import = functools.partial(importer.run_import, batch_size=batch)
with app.app_context():
    import_jobs.import_customers(os.environ["CRM_TOKEN"], job_id=int(os.environ["CRM_JOB"]),
                                 user_id=int(os.environ["CRM_USER"]), locale="en")
print("done", flush=True)
"""


@pytest.fixture
def app_overrides():
    return {"REDIS_URL": REDIS_URL, "JOBS_INLINE": False,
            "JOBS_QUEUE": f"import-{uuid.uuid4().hex[:8]}"} if REDIS_URL else {}


@pytest.fixture
def upload(app, make_user):
    """A stored upload of ROWS customers keyed by mobile, its job record and its owner."""
    user_id = make_user("admin@example.ir", locale="en")
    with app.app_context():
        token = uuid.uuid4().hex
        lines = ["First name,Last name,Mobile"]
        lines += [f"Name{i},Family{i},0912{i:07d}" for i in range(ROWS)]
        (import_jobs.imports_dir() / f"{token}.csv").write_text("\n".join(lines) + "\n",
                                                                encoding="utf-8")
        import_jobs._write_info(token, {"user_id": user_id, "name": "customers.csv",
                                        "mapping": ["first_name", "last_name", "mobile"],
                                        "ext": "csv"})
        job_id = JobProgress.create(import_jobs.KIND, created_by=user_id).id
        db.session.commit()
    return token, job_id, user_id


def _customers() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Customer))


def test_import_killed_mid_run_completes_on_rerun_with_every_row_once(app, upload):
    token, job_id, user_id = upload
    env = {**os.environ, "CRM_ROOT": str(ROOT), "CRM_DB": app.config["SQLALCHEMY_DATABASE_URI"],
           "CRM_ENGINE_OPTIONS": json.dumps(app.config["SQLALCHEMY_ENGINE_OPTIONS"]),
           "CRM_UPLOAD_DIR": app.config["CRM_UPLOAD_DIR"], "CRM_TOKEN": token,
           "CRM_JOB": str(job_id), "CRM_USER": str(user_id), "CRM_BATCH": str(BATCH)}
    worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    with app.app_context():
        wait_until(lambda: _customers() >= 3 * BATCH, 90, 0.02, "three batches written")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        written = _customers()
        assert 3 * BATCH <= written < ROWS, "killed in the middle of the import"
        assert written % BATCH == 0, "a batch is committed whole or not at all"
        assert db.session.get(JobRecord, job_id).status == "running"  # as the crash left it

        result = import_jobs.import_customers(token, job_id=job_id, user_id=user_id,
                                              locale="en")  # the job, run again
        assert result["created"] == ROWS - written and result["unchanged"] == written
        assert result["rejected"] == 0 and result["total"] == ROWS
        assert _customers() == ROWS
        mobiles = db.session.execute(select(ContactPoint.value, func.count())
                                     .where(ContactPoint.kind == "mobile")
                                     .group_by(ContactPoint.value)).all()
        assert len(mobiles) == ROWS and {n for _v, n in mobiles} == {1}
        record = db.session.get(JobRecord, job_id)
        assert record.status == "done" and record.result["created"] == ROWS - written
        assert import_jobs.upload_info(token) is None  # the upload is removed once complete


@pytest.mark.redis
def test_the_import_job_is_queued_to_be_rerun_when_its_worker_dies(app, upload):
    require_service("Redis", bool(REDIS_URL), "set CRM_TEST_REDIS_URL")
    token, job_id, user_id = upload
    with app.app_context():
        queued = jobs.enqueue(import_jobs.import_customers, token, job_id=job_id,
                              user_id=user_id)
        try:
            assert queued.retries_left == 2  # RQ's cleanup requeues an abandoned job
        finally:
            jobs.queue().delete(delete_jobs=True)
