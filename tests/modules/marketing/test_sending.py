"""Campaign email through a REAL aiosmtpd server: each consenting member once, valid MIME with
text, RTL HTML and List-Unsubscribe, exactly once even when the worker is killed (kill -9)."""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import outbox
from core.extensions import db
from core.outbox import OutboxMessage
from modules.marketing import engine, sending
from modules.marketing.models.campaigns import Campaign, Recipient
from modules.marketing.models.segments import Segment
from tests.core.messaging.servers import SmtpServer
from tests.modules.marketing.campaign_helpers import campaign, customer, static_segment, use_smtp

ROOT = Path(__file__).resolve().parents[3]

WORKER = """
import json, os, sys
sys.path.insert(0, os.environ["CRM_ROOT"])
from config import TestConfig
from core import create_app
from modules.marketing import sending
options = json.loads(os.environ["CRM_ENGINE_OPTIONS"])
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=os.environ["CRM_DB"],
                 SQLALCHEMY_ENGINE_OPTIONS=options)
with app.app_context():
    while sending.send_batch(int(os.environ["CRM_CAMPAIGN"]), limit=5):
        print("batch", flush=True)
print("done", flush=True)
"""


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def _relay_all():
    for _ in range(50):
        counts = outbox.relay_once(limit=500)
        if not counts["delivered"] and not counts["retry"]:
            break


def _audience(app, n_ok=12):
    with app.app_context():
        ok = [customer(i, first=f"علی{i}") for i in range(n_ok)]
        others = [customer(200, consent_email=False), customer(201, email=False)]
        seg = static_segment(ok + others)
        c = campaign(seg)
        db.session.commit()
        return c.id, [f"user{i}@example.ir" for i in range(n_ok)]


def test_campaign_reaches_each_consenting_member_once_with_valid_mime(app, smtp):
    cid, addresses = _audience(app, 4)
    with app.app_context():
        use_smtp(smtp)
        c = db.session.get(Campaign, cid)
        engine.start(c, dispatch=False)
        db.session.commit()
        sending.run(cid)
        _relay_all()
        assert sending.sync_delivery() == 4
        assert engine.progress(db.session.get(Campaign, cid))["by_status"] == {"sent": 4}
    received = smtp.wait_for(4)
    assert sorted(m.rcpt_tos[0] for m in received) == addresses
    mail = next(m.message for m in received if m.rcpt_tos == ["user1@example.ir"])
    assert mail.get_content_type() == "multipart/alternative"
    assert mail["Subject"] == "سلام علی1"
    unsubscribe = mail["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://crm.example.ir/marketing/t/u/")
    assert unsubscribe.endswith(">")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "سلام علی1، حراج پاییزه!" in text and unsubscribe[1:-1] in text
    assert 'dir="rtl"' in html and "https://crm.example.ir/marketing/t/o/" in html
    assert "https://crm.example.ir/marketing/t/c/" in html
    assert "shop.example.ir" not in html  # every link goes through the signed redirect


def test_unsubscribe_click_stops_the_next_campaign(app, client, smtp):
    cid, _addresses = _audience(app, 3)
    with app.app_context():
        use_smtp(smtp)
        engine.start(db.session.get(Campaign, cid), dispatch=False)
        db.session.commit()
        sending.run(cid)
        _relay_all()
    mail = next(m.message for m in smtp.wait_for(3) if m.rcpt_tos == ["user2@example.ir"])
    path = mail["List-Unsubscribe"][1:-1].replace("https://crm.example.ir", "")
    page = client.get(path)
    assert page.status_code == 200 and "user2@example.ir" in page.text
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058, no CSRF token
    assert done.status_code == 200 and b"data-unsubscribed" in done.data
    smtp.messages.clear()
    with app.app_context():
        from core.customers.models import Customer
        from core.messaging import is_opted_out

        assert is_opted_out("email", "user2@example.ir")
        assert db.session.scalar(select(Customer.consent_email).where(
            Customer.display_name == "مشتری 2")) is False
        first = db.session.get(Campaign, cid)
        second = campaign(db.session.get(Segment, first.segment_id), name="دوم")
        assert engine.start(second, dispatch=False) == 2
        db.session.commit()
        sending.run(second.id)
        _relay_all()
    received = smtp.wait_for(2)
    time.sleep(0.2)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == ["user0@example.ir",
                                                             "user1@example.ir"]
    assert len(received) == 2


def _worker(app, cid, slow: str) -> subprocess.Popen:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    env = {**os.environ, "CRM_ROOT": str(ROOT), "CRM_DB": uri, "CRM_CAMPAIGN": str(cid),
           "CRM_ENGINE_OPTIONS": json.dumps(options), "CRM_MARKETING_SLOW_SEND": slow}
    return subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _count(status=None):
    db.session.rollback()
    stmt = select(func.count()).select_from(Recipient)
    if status:
        stmt = stmt.where(Recipient.status == status)
    return db.session.scalar(stmt)


def test_worker_killed_mid_campaign_still_sends_each_address_exactly_once(app, smtp):
    cid, addresses = _audience(app, 30)
    with app.app_context():
        use_smtp(smtp)
        engine.start(db.session.get(Campaign, cid), dispatch=False)
        db.session.commit()
        worker = _worker(app, cid, "0.04")  # 0.2 s per batch of 5: the kill lands mid-batch
        deadline = time.monotonic() + 60
        while _count("queued") < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        queued = _count("queued")
        assert 10 <= queued < 30, "killed in the middle of the campaign"
        assert queued % 5 == 0, "a batch is committed whole or not at all"
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == queued
        restarted = _worker(app, cid, "0")
        out, err = restarted.communicate(timeout=120)
        assert restarted.returncode == 0, err[-2000:]
        assert _count("queued") == 30 and _count("pending") == 0
        _relay_all()
    smtp.wait_for(30, timeout=30)
    time.sleep(0.3)
    counts = Counter(m.rcpt_tos[0] for m in smtp.messages)
    assert sorted(counts) == sorted(addresses)
    assert set(counts.values()) == {1}, "every consenting address exactly once"
