"""Heavy analytics reads on a read replica (``DATABASE_REPLICA_URL``), the primary otherwise.

``read_session()`` is the session for reads that may lag the primary by a few seconds: the
RFM/CLV aggregate over purchases and the analytics dashboard's figures. It is a session on the
replica when one is configured and answers, else ``db.session`` itself. When the replica does
not answer, the reads go to the primary, a warning is logged, and the replica is tried again
after ``RETRY_SECONDS`` (``crm check`` reports it too). Never write through it.
"""

import logging
import time

from flask import Flask, current_app, g
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.extensions import db

log = logging.getLogger(__name__)
RETRY_SECONDS = 30
CONNECT_TIMEOUT = 3
_KEY = "crm_replica"


def _state(app: Flask) -> dict:
    return app.extensions.setdefault(_KEY, {"engine": None, "down_until": 0.0})


def replica_engine(app: Flask | None = None) -> Engine | None:
    """The replica's engine (created once per process), or None when none is configured."""
    app = app or current_app
    url = app.config.get("DATABASE_REPLICA_URL")
    if not url:
        return None
    state = _state(app)
    if state["engine"] is None:
        from config import _normalise_db_url

        url = _normalise_db_url(url)
        options = {"pool_pre_ping": True}
        if url.startswith("postgresql"):
            options.update(pool_recycle=1800, connect_args={"connect_timeout": CONNECT_TIMEOUT})
        options.update(app.config.get("DATABASE_REPLICA_ENGINE_OPTIONS") or {})
        state["engine"] = create_engine(url, **options)
    return state["engine"]


def read_session() -> Session:
    """The session for heavy reads in this app context (see the module docstring)."""
    session = g.get("crm_read_session")
    if session is not None:
        return session
    session = _open_replica() or db.session
    g.crm_read_session = session
    return session


def using_replica() -> bool:
    """Whether this app context's heavy reads go to the replica."""
    return read_session() is not db.session


def _open_replica() -> Session | None:
    app = current_app._get_current_object()
    engine = replica_engine(app)
    if engine is None:
        return None
    state = _state(app)
    if time.monotonic() < state["down_until"]:
        return None
    session = Session(engine)
    try:
        session.connection()  # checks a connection out (pre-ping): fails fast when it is down
    except Exception as exc:  # noqa: BLE001 - any failure: read from the primary instead
        session.close()
        state["down_until"] = time.monotonic() + RETRY_SECONDS
        log.warning("read replica unreachable (%s: %s); analytics read from the primary "
                    "for %d s", exc.__class__.__name__, exc, RETRY_SECONDS)
        return None
    return session


def _close(_exc=None) -> None:
    session = g.pop("crm_read_session", None)
    if session is not None and session is not db.session:
        session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
