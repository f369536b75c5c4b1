"""Redis down (a private redis-server, stopped mid-test): pages and sign-in still work, login
throttling keeps counting in the web process's memory, and a job queued while Redis is away
runs in the web process instead of being lost (README, "Production")."""

import logging
import uuid

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from core import jobs
from core.audit import AuditLog
from core.extensions import db
from core.jobs.progress import JobRecord
from tests.conftest import csrf_from, require_service
from tests.reliability.jobs import ACTION, mark
from tests.reliability.services import PrivateRedis

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server():
    require_service("redis-server", PrivateRedis.available(), "apt-get install redis-server")
    server = PrivateRedis().start()
    yield server
    server.stop()


@pytest.fixture
def app_overrides(redis_server):
    return {"REDIS_URL": redis_server.url, "JOBS_INLINE": False,
            "JOBS_QUEUE": f"down-{uuid.uuid4().hex[:8]}", "CRM_LOGIN_LIMIT_ACCOUNT": "3 per minute"}


def _login(client, email, password="correct horse battery"):
    page = client.get("/auth/login")
    assert page.status_code == 200
    return client.post("/auth/login", data={"email": email, "password": password,
                                            "csrf_token": csrf_from(page)})


def test_without_redis_pages_sign_in_throttling_and_jobs_still_work(app, client, make_user,
                                                                    redis_server, caplog):
    make_user("admin@example.ir", locale="en")
    assert app.config["RATELIMIT_STORAGE_URI"] == redis_server.url  # counted in Redis
    assert _login(client, "nobody@example.ir", "x").status_code == 401
    import redis

    assert redis.Redis.from_url(redis_server.url).keys("*nobody@example.ir*")
    redis_server.stop()

    assert client.get("/auth/login").status_code == 200
    assert _login(client, "admin@example.ir").status_code == 302
    with force_locale("en"):
        assert client.get("/").status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["queue"].startswith("error")
    assert health.json["database"] == "ok"

    # the recompute is queued after the request's commit: Redis is down, so it runs here
    with caplog.at_level(logging.WARNING, logger="core.jobs"):
        response = client.post("/analytics/recompute",
                               data={"csrf_token": csrf_from(client.get("/analytics/"))})
    assert response.status_code == 302
    with app.app_context():
        record = db.session.execute(select(JobRecord).order_by(JobRecord.id.desc())).scalar()
        assert record.status == "done", record.message
        jobs.enqueue(mark, 7, pause=0)  # outside a request (CLI, jobs): the same
        assert db.session.scalar(select(func.count()).select_from(AuditLog)
                                 .where(AuditLog.action == ACTION, AuditLog.target == "7")) == 1
    assert sum("Redis unreachable" in r.getMessage() for r in caplog.records) >= 1

    # throttling falls back to this process's memory: the account limit still trips
    other = app.test_client()
    statuses = [_login(other, "victim@example.ir", "wrong").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
