"""PostgreSQL restarted under load: a private cluster (never the shared one) is restarted with
``pg_ctl restart -m fast`` while four threads make requests, then again while they pause (the
pool idle, full of dead connections); every request that starts after a restart has finished
succeeds, with the engine options the app picks by itself (pre-ping)."""

import threading
import time

import pytest

from config import TestConfig
from core import create_app
from core.extensions import db
from tests.conftest import csrf_from, require_service
from tests.reliability.services import PrivatePostgres, wait_until

pytestmark = pytest.mark.postgres
THREADS = 4


@pytest.fixture
def cluster():
    require_service("PostgreSQL binaries", PrivatePostgres.available(),
                    "needs /usr/lib/postgresql/15/bin and root (runuser -u postgres)")
    server = PrivatePostgres().start()
    yield server
    server.stop()


def test_requests_after_a_postgres_restart_all_succeed(cluster, tmp_path):
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=cluster.url,
                     CRM_UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        assert db.engine.pool._pre_ping, "PostgreSQL engines ping a connection before use"
        db.create_all()
        from core.admin.services import create_or_update_user
        from core.bootstrap import ensure_deployment

        ensure_deployment()
        create_or_update_user(email="admin@example.ir", password="correct horse battery",
                              role_name="admin", name="Admin", seats=[], locale="en")
        db.session.commit()

    results: list[tuple[float, str, int | str, float]] = []
    stop, go = threading.Event(), threading.Event()
    go.set()

    def hammer():
        client = app.test_client()
        page = client.get("/auth/login")
        client.post("/auth/login", data={"email": "admin@example.ir",
                                         "password": "correct horse battery",
                                         "csrf_token": csrf_from(page)})
        while not stop.is_set():
            go.wait()
            for path in ("/healthz", "/customers/"):
                started = time.monotonic()
                try:
                    outcome = client.get(path).status_code
                except Exception as exc:  # noqa: BLE001 - a failed request is what we count
                    outcome = exc.__class__.__name__
                results.append((started, path, outcome, time.monotonic()))
            time.sleep(0.01)

    threads = [threading.Thread(target=hammer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(results) >= THREADS * 4, 60, what="the threads to get going")
    began = time.monotonic()
    cluster.ctl("restart")
    restarted = time.monotonic()
    time.sleep(1.5)
    # and once more while the pool sits idle, full of connections the restart killed
    go.clear()
    time.sleep(0.3)
    cluster.ctl("restart")
    idle_restarted = time.monotonic()
    go.set()
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()

    before = [outcome for _s, _p, outcome, ended in results if ended < began]
    assert len(before) >= THREADS * 4 and set(before) == {200}
    after = [(path, outcome) for started, path, outcome, _e in results if started >= restarted]
    assert len(after) >= THREADS * 4, "the threads kept making requests after the restart"
    failed = [(path, outcome) for path, outcome in after if outcome != 200]
    assert failed == [], "no request after the restart fails"
    assert len([r for r in results if r[0] >= idle_restarted]) >= THREADS * 2
