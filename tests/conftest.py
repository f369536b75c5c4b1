"""Shared fixtures: one app with a fresh database per test (SQLite, or CRM_TEST_DATABASE_URL)."""

import os
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from config import TestConfig
from core import create_app
from core.extensions import db

# Browser fixtures (live_server, browser, browser_page...) shared by every folder, once per process.
pytest_plugins = ["tests.browser"]

PG_URL = os.environ.get("CRM_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("CRM_TEST_REDIS_URL")


def _fresh_postgres_schema(url: str):
    """A private schema per test so tests on PostgreSQL never see each other's rows."""
    from config import _normalise_db_url

    url = _normalise_db_url(url)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return url, schema


@pytest.fixture
def database_uri(tmp_path, request):
    """A file SQLite database per test, or a fresh schema on PostgreSQL when configured."""
    if PG_URL:
        url, schema = _fresh_postgres_schema(PG_URL)
        request.addfinalizer(lambda: _drop_schema(url, schema))
        return url, {"connect_args": {"options": f"-csearch_path={schema}"}}
    return f"sqlite:///{tmp_path / 'crm.db'}", {}


def _drop_schema(url, schema):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def app_overrides():
    """Override in a test module to change the config of the ``app`` fixture."""
    return {}


@pytest.fixture
def app(database_uri, tmp_path, app_overrides):
    uri, engine_options = database_uri
    overrides = {
        "SQLALCHEMY_DATABASE_URI": uri,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "CRM_UPLOAD_DIR": str(tmp_path / "uploads"),
        **app_overrides,
    }
    app = create_app(TestConfig, **overrides)
    with app.app_context():
        db.create_all()
        from core.bootstrap import ensure_deployment

        ensure_deployment()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a user: ``make_user("a@x.ir", role="agent", seats=["sales"], locale="en")``."""
    from core.admin.services import create_or_update_user

    def make(email="admin@example.ir", password="correct horse battery", role="admin",
             seats=(), name="", locale=None):
        with app.app_context():
            user = create_or_update_user(email=email, password=password, role_name=role,
                                         name=name, seats=list(seats), locale=locale)
            return user.id

    return make


def csrf_from(response) -> str:
    """The CSRF token in a rendered page."""
    import re

    match = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', response.data)
    if match is None:
        match = re.search(rb'name="csrf-token" content="([^"]+)"', response.data)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


@contextmanager
def recorded_statements(app):
    """The SQL statements run inside the block, in order (a list filled as they run)."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def login(client):
    """Sign in through the real form: ``login("a@x.ir")``."""

    def do(email="admin@example.ir", password="correct horse battery"):
        page = client.get("/auth/login")
        response = client.post("/auth/login", data={
            "email": email, "password": password, "csrf_token": csrf_from(page),
        })
        assert response.status_code == 302, response.data[:500]
        return client

    return do


def require_service(name: str, available: bool, how: str) -> None:
    """Skip loudly when a service is missing; in CI (CRM_REQUIRE_SERVICES=1) fail instead."""
    if available:
        return
    message = f"{name} is not available: {how}"
    if os.environ.get("CRM_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: a skip (missing service, browser...) becomes a failure."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CRM_REQUIRE_SERVICES") == "1" and call.when != "teardown":
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every service must be present: {report.longrepr}"


def pytest_collection_modifyitems(config, items):
    """``CRM_TEST_DATABASE_ONLY=1``: keep only the tests that use the database, not in a browser.

    CI runs the whole suite on SQLite, then again on PostgreSQL; the second pass needs only the
    tests whose outcome can depend on the database (every test that builds an app on the test
    database, and those marked postgres or redis). Pure functions, static checks and the
    browser journeys ran in the first pass.
    """
    if os.environ.get("CRM_TEST_DATABASE_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses_database = ("database_uri" in getattr(item, "fixturenames", ())
                         or item.get_closest_marker("postgres") is not None
                         or item.get_closest_marker("redis") is not None)
        in_browser = item.get_closest_marker("e2e") is not None
        (keep if uses_database and not in_browser else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def race_database(request, tmp_path) -> tuple[str, dict]:
    """(uri, engine options) for a race fixture parametrized ``["sqlite", "postgresql"]``: a file
    SQLite database, or a fresh PostgreSQL schema dropped after the test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}", {}
    if not PG_URL:
        pytest.skip("a PostgreSQL race needs CRM_TEST_DATABASE_URL "
                    "(e.g. postgresql://postgres@127.0.0.1:5432/test)")
    uri, schema = _fresh_postgres_schema(PG_URL)
    request.addfinalizer(lambda: _drop_schema(uri, schema))
    return uri, {"connect_args": {"options": f"-csearch_path={schema}"}}
