"""The send job on RQ with a real Redis (CRM_TEST_REDIS_URL): start queues it, a worker sends."""

import os
import uuid

import pytest
from rq.job import Job

from core import jobs, outbox
from core.extensions import db
from core.jobs.cli import AppWorker
from modules.marketing import engine, sending
from modules.marketing.models.campaigns import Campaign
from tests.core.messaging.servers import SmtpServer
from tests.modules.marketing.campaign_helpers import campaign, customer, static_segment, use_smtp

REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL")
pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CRM_TEST_REDIS_URL "
                                              "(e.g. redis://127.0.0.1:6379/0)"),
]


@pytest.fixture
def app_overrides():
    return {"REDIS_URL": REDIS_URL, "JOBS_INLINE": False,
            "JOBS_QUEUE": f"test-{uuid.uuid4().hex[:10]}"}


def test_start_queues_the_send_job_and_a_worker_sends(app):
    server = SmtpServer().start()
    try:
        with app.app_context():
            use_smtp(server)
            people = [customer(1), customer(2), customer(3, consent_email=False)]
            c = campaign(static_segment(people))
            engine.start(c, dispatch=False)
            db.session.commit()
            rq_job = jobs.enqueue(sending.send_job, c.id)
            assert isinstance(rq_job, Job)
            queue = jobs.queue()
        worker = AppWorker([queue.name], connection=queue.connection, app=app)
        assert worker.work(burst=True)
        rq_job.refresh()
        assert rq_job.get_status() == "finished", rq_job.latest_result()
        with app.app_context():
            assert db.session.get(Campaign, c.id).status == "sent"
            outbox.relay_once()
        assert sorted(m.rcpt_tos[0] for m in server.wait_for(2)) == ["user1@example.ir",
                                                                    "user2@example.ir"]
        queue.delete(delete_jobs=True)
    finally:
        server.stop()
