"""Database binding: SQLite pragmas and write transactions, cross-database locks, settings."""

from datetime import UTC, datetime
from pathlib import Path

from flask import has_request_context, request
from flask.globals import _cv_request  # the request context itself (per-request caches)
from sqlalchemy import event, select, update
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from core.extensions import db, migrate

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
POOL_RECYCLE_SECONDS = 1800
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
MAX_ROW_ID = 2**31 - 1  # the largest value of an integer id column (PostgreSQL ``integer``)


class RowIdConverter(IntegerConverter):
    """``<int:...>`` in URLs: a number past any id column's range is 404, not a database error."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's signature
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app):
    """Bind SQLAlchemy and Alembic; make SQLite behave like a server database."""
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    # This app's own copy: the class default is one dict shared by every app of the process
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
        app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("postgresql"):
        # A restarted server (or a proxy that drops idle connections) leaves dead connections
        # in the pool: test each on checkout and replace it, and renew them every half hour.
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_recycle", POOL_RECYCLE_SECONDS)
    if uri.startswith("sqlite"):
        options["connect_args"] = dict(options.get("connect_args") or {})
        options["connect_args"].setdefault("timeout", 30)
        if uri.startswith("sqlite:///") and uri != "sqlite://":
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    from core import models  # noqa: F401 - registers the core tables

    db.init_app(app)
    from core import replica

    replica.init_app(app)  # analytics' heavy reads on DATABASE_REPLICA_URL when set
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)


def _tune_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and real transactions: ``BEGIN IMMEDIATE`` for write requests."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        writing = has_request_context() and request.method not in SAFE_METHODS
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (what every timestamp column stores)."""
    return datetime.now(UTC)


def lock(name: str) -> None:
    """Take a named lock until the end of the current transaction, on SQLite and PostgreSQL.

    Updating the lock row takes the write lock on SQLite and a row lock on PostgreSQL, so
    two transactions that both call ``lock("seats")`` run their critical sections in turn.
    Call it before reading what the critical section decides on.
    """
    from core.models import Lock

    result = db.session.execute(update(Lock).where(Lock.name == name).values(n=Lock.n + 1))
    if result.rowcount == 0:
        # First use: two transactions may both create the row; ON CONFLICT makes the second
        # wait for the first and then take the lock instead of failing on the duplicate key.
        dialect = db.session.get_bind().dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(Lock).values(name=name, n=0).on_conflict_do_nothing())
        db.session.execute(update(Lock).where(Lock.name == name).values(n=Lock.n + 1))


# Settings nearly every page reads (the language for a user who chose none, the money unit):
# the license gate reads them in its one settings query at the start of each request, and
# ``get_setting`` answers them from there for the rest of the request.
REQUEST_SETTINGS = ("display.language", "display.unit")
_PREFETCHED = "crm_prefetched_settings"


def remember_request_settings(values: dict) -> None:
    """Keep this request's values of ``REQUEST_SETTINGS`` (missing keys: not set)."""
    ctx = _cv_request.get(None)
    if ctx is not None:  # on the request, not g: a test's app context outlives requests
        setattr(ctx, _PREFETCHED, {key: values.get(key) for key in REQUEST_SETTINGS})


def get_setting(key: str, default=None):
    """A deployment setting stored in the database (company profile, currency, ...)."""
    from core.models import Setting

    if key in REQUEST_SETTINGS:
        prefetched = getattr(_cv_request.get(None), _PREFETCHED, None)
        if prefetched is not None:
            value = prefetched[key]
            return default if value is None else value
    row = db.session.execute(select(Setting.value).where(Setting.key == key)).scalar()
    return default if row is None else row


def set_setting(key: str, value) -> bool:
    """Store a setting; returns whether it changed (so callers can stay idempotent)."""
    from core.models import Setting

    ctx = _cv_request.get(None)
    if ctx is not None:
        ctx.__dict__.pop(_PREFETCHED, None)  # read them again from the database from now on
        ctx.__dict__.pop("crm_request_cache", None)  # and what request_cached made of them
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
        return True
    if row.value == value:
        return False
    row.value = value
    return True


def include_in_comparison(connection):
    """An Alembic ``include_object`` that leaves out what this database does not create.

    An index declared with ``.ddl_if(dialect=..., callable_=...)`` (the PostgreSQL trigram
    index, say) exists only where its condition holds; autogenerate and the schema test must
    not ask for it elsewhere.
    """

    def include_object(obj, _name, type_, reflected, _compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        if type_ != "index" or reflected or condition is None:
            return True
        if condition.dialect and condition.dialect != connection.dialect.name:
            return False
        return condition.callable_ is None or bool(
            condition.callable_(None, obj.table, connection))

    return include_object
