"""Fault injection: an accounting endpoint that fails 30% of calls at random receives every
journal entry of a 1,000-invoice run exactly once and in order per document, also when the
relay worker is killed with SIGKILL in the middle of the run."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.modules.accounting_link.accounting_server import AccountingServer

ROOT = Path(__file__).resolve().parents[3]
CONFIG = {"OUTBOX_BACKOFF_BASE": 0.005, "OUTBOX_BACKOFF_CAP": 0.02,
          "OUTBOX_MAX_ATTEMPTS": 60, "OUTBOX_LEASE_SECONDS": 2}
TIMEOUT = 0.1  # the connector's; the server's timeouts sleep 0.25 s


@pytest.fixture
def app_overrides():
    return dict(CONFIG)


def _connector(app, url: str) -> tuple[int, str]:
    from modules.accounting_link.delivery import save_connector

    with app.app_context():
        connector = save_connector(None, name="Books", url=url, timeout=1)
        connector.timeout = TIMEOUT
        db.session.commit()
        return connector.id, connector.secret


def _post_invoices(app, count: int, reverse_every: int = 10, credit_every: int = 25,
                   batch: int = 250) -> None:
    """The journal entries of ``count`` posted invoices, written by ``post_entry`` with the
    invoice posting rule's legs (the sales services take ~0.1 s an invoice, too slow for a
    1,000-invoice test): every ``reverse_every``th entry is reversed (a second entry of the
    same document) and every ``credit_every``th invoice gets a credit note."""
    from modules.accounting_link.journal import Leg, post_entry, reverse_entry

    def legs(total, vat, credit=False):
        rows = [Leg("receivables", debit=total), Leg("revenue", credit=total - vat),
                Leg("vat_payable", credit=vat)]
        if credit:
            rows = [Leg(leg.role, debit=leg.credit, credit=leg.debit) for leg in rows]
        return rows

    with app.app_context():
        for start in range(0, count, batch):
            for i in range(start, min(start + batch, count)):
                entry = post_entry(kind="invoice", source_type="sales.invoice", source_id=i + 1,
                                   key=f"sales.invoice:{i + 1}", legs=legs(1_090_000, 90_000),
                                   reference=f"INV-{i + 1}")
                if i % reverse_every == 0:
                    reverse_entry(entry, reason="test")
                if i % credit_every == 0:
                    note = 100_000 + i
                    post_entry(kind="credit_note", source_type="sales.invoice", source_id=note,
                               key=f"sales.invoice:{note}", legs=legs(1_090_000, 90_000, True),
                               reference=f"CN-{i + 1}")
            db.session.commit()


def _expected(app) -> tuple[set[str], dict[str, list[int]]]:
    from modules.accounting_link.models.delivery import Delivery
    from modules.accounting_link.models.journal import JournalEntry

    with app.app_context():
        rows = db.session.execute(
            select(Delivery.connector_id, JournalEntry.id, JournalEntry.source_type,
                   JournalEntry.source_id).join(JournalEntry, JournalEntry.id == Delivery.entry_id)
            .order_by(JournalEntry.id)).all()
        entries = db.session.execute(select(func.count(JournalEntry.id))).scalar_one()
    assert len(rows) == entries  # every entry was queued for the one connector
    keys = {f"accounting:{c}:{e}" for c, e, _t, _i in rows}
    order: dict[str, list[int]] = {}
    for _c, entry_id, source_type, source_id in rows:
        order.setdefault(f"{source_type}:{source_id}", []).append(entry_id)
    return keys, order


def _drain(app, deadline: float = 200) -> None:
    from core.outbox import relay_once
    from core.outbox.models import OutboxMessage

    stop = time.monotonic() + deadline
    with app.app_context():
        while time.monotonic() < stop:
            relay_once(limit=500)
            left = db.session.execute(select(func.count()).where(
                OutboxMessage.status == "pending")).scalar_one()
            db.session.rollback()
            if not left:
                return
            time.sleep(0.005)
    raise AssertionError("the relay did not drain the outbox in time")


def _check(server: AccountingServer, keys: set[str], order: dict[str, list[int]]) -> None:
    assert set(server.accepted) == keys  # every entry accepted...
    assert len(server.accepted) == len(keys)  # ...once: a repeat is counted as a duplicate
    assert server.bad_signatures == 0
    for document, entry_ids in order.items():
        assert server.order[document] == entry_ids, document
    assert sum(len(ids) for ids in server.order.values()) == len(keys)
    from core.outbox.models import OutboxMessage

    statuses = dict(db.session.execute(select(OutboxMessage.status, func.count())
                                       .group_by(OutboxMessage.status)).all())
    assert statuses == {"delivered": len(keys)}


def test_every_entry_of_1000_invoices_arrives_once_in_order_through_30_percent_failures(
        app, make_user):
    make_user(seats=["accounting_link"])
    with AccountingServer(fail_rate=0.3, slow=0.25, seed=30) as server:
        _connector_id, secret = _connector(app, server.url)
        server.secret = secret
        _post_invoices(app, 1000)
        keys, order = _expected(app)
        assert len(keys) == 1000 + 100 + 40  # invoices, reversals, credit notes
        assert sum(1 for ids in order.values() if len(ids) == 2) == 100
        _drain(app)
        with app.app_context():
            _check(server, keys, order)
    assert server.calls > len(keys)  # failures were retried
    assert set(server.faults) == {"error", "timeout", "drop_before", "drop_after"}
    assert sum(server.faults.values()) >= 0.2 * server.calls
    assert server.duplicates  # accepted-then-dropped entries came again and were refused


RELAY_SCRIPT = """
import json, os, sys, time
sys.path.insert(0, os.environ["CRM_ROOT"])
from config import TestConfig
from core import create_app
from core.outbox import relay_once
settings = json.loads(os.environ["CRM_RELAY_SETTINGS"])
app = create_app(TestConfig, **settings)
with app.app_context():
    print("ready", flush=True)
    stop = time.monotonic() + 60
    while time.monotonic() < stop:
        relay_once(limit=20)
        time.sleep(0.002)
"""


def _start_relay(app) -> subprocess.Popen:
    settings = {key: app.config[key] for key in (
        "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "CRM_UPLOAD_DIR", *CONFIG)}
    settings["SECRET_KEY"] = app.config["SECRET_KEY"]
    env = {**os.environ, "CRM_ROOT": str(ROOT), "CRM_RELAY_SETTINGS": json.dumps(settings)}
    process = subprocess.Popen([sys.executable, "-c", RELAY_SCRIPT], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready", process.stderr.read()
    return process


def test_killing_the_relay_worker_mid_run_loses_and_duplicates_nothing(app, make_user):
    make_user(seats=["accounting_link"])
    with AccountingServer(fail_rate=0.3, slow=0.25, seed=9) as server:
        _connector_id, server.secret = _connector(app, server.url)
        _post_invoices(app, 200)
        keys, order = _expected(app)
        first = _start_relay(app)
        try:
            stop = time.monotonic() + 30
            while len(server.accepted) < len(keys) // 3 and time.monotonic() < stop:
                time.sleep(0.01)
            assert len(server.accepted) >= len(keys) // 3
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
        assert first.returncode == -signal.SIGKILL
        assert len(server.accepted) < len(keys)  # killed mid-run, with work left
        second = _start_relay(app)
        try:
            stop = time.monotonic() + 40
            while len(server.accepted) < len(keys) and time.monotonic() < stop:
                time.sleep(0.02)
            _drain(app, deadline=10)  # whatever the second worker left, after its leases
        finally:
            second.kill()
            second.wait()
        with app.app_context():
            _check(server, keys, order)
