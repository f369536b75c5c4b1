"""Two gunicorn web processes and two ``crm worker`` processes on one PostgreSQL schema and one
Redis behave as one deployment: sessions, licenses, login throttling and jobs are shared.

The four processes start once (a few seconds); one test drives them over HTTP through four
checks, one per promise.
"""

import json
import re
import time
import uuid
from datetime import UTC, date, datetime

import pytest
import requests
from sqlalchemy import select

from config import TestConfig
from core import create_app, jobs
from core.audit import AuditLog
from core.extensions import db
from tests.conftest import PG_URL, REDIS_URL, _drop_schema, _fresh_postgres_schema, require_service
from tests.core.licensing.helpers import ROOT_PUBLIC, license_text
from tests.reliability import services
from tests.reliability.jobs import ACTION, mark

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
PASSWORD = "correct horse battery"
ALL_MODULES = {"sales": 5, "service": 5, "marketing": 5, "loyalty": 5, "accounting_link": 5}


class Deployment:
    def __init__(self, app, web_a: str, web_b: str, logs, workers):
        self.app, self.a, self.b, self.logs, self.workers = app, web_a, web_b, logs, workers


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    require_service("PostgreSQL", bool(PG_URL), "set CRM_TEST_DATABASE_URL")
    require_service("Redis", bool(REDIS_URL), "set CRM_TEST_REDIS_URL")
    tmp = tmp_path_factory.mktemp("scale-out")
    url, schema = _fresh_postgres_schema(PG_URL)
    name = f"scale-{uuid.uuid4().hex[:10]}"
    settings = {"JOBS_QUEUE": name, "RATELIMIT_KEY_PREFIX": name,
                "CRM_LOGIN_LIMIT_ACCOUNT": "4 per minute", "CRM_LOGIN_LIMIT_IP": "100 per minute",
                "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8192}
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url,
                     SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"options":
                                                                 f"-csearch_path={schema}"}},
                     CRM_UPLOAD_DIR=str(tmp / "uploads"), CRM_LICENSE_ROOT_KEYS=[ROOT_PUBLIC],
                     REDIS_URL=REDIS_URL, JOBS_INLINE=False, JOBS_QUEUE=name)
    with app.app_context():
        db.create_all()
        from core.admin.services import create_or_update_user
        from core.bootstrap import ensure_deployment

        ensure_deployment()
        create_or_update_user(email="admin@example.ir", password=PASSWORD, role_name="admin",
                              name="Admin", seats=[], locale="en")
        db.session.commit()
    env = services.process_env(
        DATABASE_URL=f"{PG_URL}?options=-csearch_path%3D{schema}", REDIS_URL=REDIS_URL,
        SECRET_KEY=f"shared-{uuid.uuid4().hex}", CRM_LICENSE_ROOT_KEYS=ROOT_PUBLIC,
        CRM_INSTANCE_PATH=str(tmp / "instance"), CRM_UPLOAD_DIR=str(tmp / "uploads"),
        CRM_SETTINGS_JSON=json.dumps(settings))
    services.quiet_scheduler(app)
    ports = services.free_port(), services.free_port()
    logs = {n: tmp / f"{n}.log" for n in ("web-a", "web-b", "worker-1", "worker-2")}
    processes = [services.start_web(ports[0], env, logs["web-a"]),
                 services.start_web(ports[1], env, logs["web-b"]),
                 services.start_worker(env, logs["worker-1"]),
                 services.start_worker(env, logs["worker-2"])]
    try:
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        for base, process in zip(urls, processes, strict=False):
            services.wait_http(f"{base}/auth/login", process)
        yield Deployment(app, *urls, logs, processes[2:])
    finally:
        services.stop(*processes[:2])
        services.stop(*processes[2:], hard=True)
        with app.app_context():
            connection = jobs.redis_connection()
            jobs.queue().delete(delete_jobs=True)
            for key in connection.scan_iter(f"*{name}*"):
                connection.delete(key)
            db.session.remove()
            db.engine.dispose()
        _drop_schema(url, schema)


def _csrf(page: requests.Response) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _post_login(base: str, email: str, password: str, session=None) -> requests.Response:
    session = session or requests.Session()
    token = _csrf(session.get(f"{base}/auth/login", timeout=10))
    return session.post(f"{base}/auth/login", data={"email": email, "password": password,
                                                     "csrf_token": token},
                        allow_redirects=False, timeout=10)


def _signed_in(base: str) -> requests.Session:
    session = requests.Session()
    response = _post_login(base, "admin@example.ir", PASSWORD, session)
    assert response.status_code == 302, response.text[:300]
    return session


def check_a_session_started_on_web_a_works_on_web_b(deployment):
    session = _signed_in(deployment.a)
    page = session.get(f"{deployment.b}/admin/license", allow_redirects=False, timeout=10)
    assert page.status_code == 200
    assert "data-deployment-id>" in page.text
    session.cookies.clear()
    assert session.get(f"{deployment.b}/admin/license", allow_redirects=False,
                       timeout=10).status_code == 302  # without the cookie: to the login page


def check_a_license_installed_through_web_a_is_active_on_web_b_at_once(deployment):
    session = _signed_in(deployment.a)
    before = session.get(f"{deployment.b}/admin/license", timeout=10).text  # B caches the trial
    assert 'data-license-kind="trial"' in before
    with deployment.app.app_context():
        from core.bootstrap import deployment_id

        text = license_text(deployment_id(), ALL_MODULES, expires=date(2030, 1, 1),
                            now=datetime.now(UTC))
    page = session.get(f"{deployment.a}/admin/license", timeout=10)
    response = session.post(f"{deployment.a}/admin/license/upload", files={
        "file": ("acme.lic", text.encode())}, data={"csrf_token": _csrf(page)},
        allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text[:500]
    after = session.get(f"{deployment.b}/admin/license", timeout=10).text
    assert 'data-license-kind="subscription"' in after
    assert "شرکت نمونه پارس" in after
    assert 'data-module="service" data-active="yes"' in after


def check_login_failures_split_across_both_web_processes_trip_one_limit(deployment):
    email = f"victim-{uuid.uuid4().hex[:6]}@example.ir"
    statuses = [_post_login(base, email, "wrong").status_code
                for base in (deployment.a, deployment.b, deployment.a, deployment.b)]
    assert statuses == [401, 401, 401, 401]
    assert _post_login(deployment.b, email, "wrong").status_code == 429  # 4 per minute in all
    assert _post_login(deployment.a, email, PASSWORD).status_code == 429
    other = _post_login(deployment.a, "admin@example.ir", PASSWORD)
    assert other.status_code == 302  # the limit is per account: others still sign in


def check_fifty_jobs_run_exactly_once_across_the_two_workers(deployment):
    app = deployment.app
    with app.app_context():
        for n in range(50):
            jobs.enqueue(mark, n)  # the deployment's queue, as a web process queues a job

    def rows():
        with app.app_context():
            found = db.session.execute(select(AuditLog.target, AuditLog.detail)
                                       .where(AuditLog.action == ACTION)).all()
            db.session.remove()
            return found

    services.wait_until(lambda: len(rows()) >= 50, 60, 0.2, "50 jobs to run")
    time.sleep(0.5)  # a duplicate would land now
    done = rows()
    assert sorted(int(target) for target, _detail in done) == list(range(50))  # each once
    workers = {detail["worker"] for _target, detail in done}
    assert workers == {w.pid for w in deployment.workers}, "both workers took jobs"


def test_two_web_processes_and_two_workers_behave_as_one_deployment(deployment):
    """One test, so that pytest-xdist never splits it and starts the four processes twice."""
    check_a_session_started_on_web_a_works_on_web_b(deployment)
    check_a_license_installed_through_web_a_is_active_on_web_b_at_once(deployment)
    check_login_failures_split_across_both_web_processes_trip_one_limit(deployment)
    check_fifty_jobs_run_exactly_once_across_the_two_workers(deployment)
