"""The club's periodic jobs and CLI: expiry run twice expires once, release, the expiry warning
once per lot, nothing while the module is inactive, ``crm loyalty verify``."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member

DAY = date(2026, 7, 1)


@pytest.fixture
def clock(monkeypatch):
    from modules.loyalty import ledger

    now = {"day": DAY}
    monkeypatch.setattr(ledger, "today", lambda: now["day"])
    return now


def _seed(app, member_id):
    from modules.loyalty import ledger

    with app.test_request_context():
        ledger.earn(member(member_id), 40, reason="a", reference="a", pending_days=0,
                    expires_on=DAY + timedelta(days=10))
        ledger.earn(member(member_id), 25, reason="b", reference="b", pending_days=0,
                    expires_on=DAY + timedelta(days=200))
        ledger.earn(member(member_id), 15, reason="c", reference="c", pending_days=5)
        db.session.commit()


def test_periodic_jobs_are_registered(app):
    from core.jobs import periodic_jobs

    names = set(periodic_jobs())
    assert {"loyalty.release", "loyalty.expire", "loyalty.expiry_warning"} <= names


def test_expiry_job_run_twice_expires_once_and_release(app, clock):
    from modules.loyalty import jobs
    from modules.loyalty.models.ledger import Entry

    member_id = make_member(app)
    _seed(app, member_id)
    with app.app_context():
        clock["day"] = DAY + timedelta(days=5)
        assert jobs.run_release() == 1
        assert (member(member_id).balance, member(member_id).pending) == (80, 0)
        clock["day"] = DAY + timedelta(days=11)
        assert jobs.run_expire() == 1
        assert jobs.run_expire() == 0
        assert member(member_id).balance == 40
        expired = db.session.execute(select(func.count()).select_from(Entry).where(
            Entry.kind == "expire")).scalar_one()
        assert expired == 1
        assert_ledger_ok(member_id)


def test_expiry_warning_once_per_lot(app, clock, monkeypatch):
    from modules.loyalty import jobs, notify

    told = []
    monkeypatch.setattr(notify, "points_expiring", lambda m, lots: told.append(
        (m.id, [(lot.reference, lot.remaining) for lot in lots])), raising=False)
    member_id = make_member(app)
    _seed(app, member_id)
    with app.app_context():
        assert jobs.run_expiry_warning() == 1
        assert jobs.run_expiry_warning() == 0
        assert told == [(member_id, [("a", 40)])]
        clock["day"] = DAY + timedelta(days=175)  # lot b now within 30 days
        assert jobs.run_expiry_warning() == 1
        assert told[-1] == (member_id, [("b", 25)])
        assert jobs.run_expiry_warning() == 0


def test_a_failing_message_does_not_stop_the_job(app, clock, monkeypatch):
    from modules.loyalty import jobs, notify

    def boom(_member, _lots):
        raise RuntimeError("gateway down")

    monkeypatch.setattr(notify, "points_expiring", boom, raising=False)
    member_id = make_member(app)
    _seed(app, member_id)
    with app.app_context():
        assert jobs.run_expiry_warning() == 1  # claimed: a warning is never sent twice
        assert jobs.run_expiry_warning() == 0


def test_jobs_do_nothing_while_the_club_is_inactive(app, clock, monkeypatch):
    import core.modules
    from modules.loyalty import jobs

    member_id = make_member(app)
    _seed(app, member_id)
    real = core.modules.is_active
    monkeypatch.setattr(core.modules, "is_active", lambda name: name != "loyalty" and real(name))
    clock["day"] = DAY + timedelta(days=30)
    with app.app_context():
        assert jobs.run_release() is None
        assert jobs.run_expire() is None
        assert jobs.run_expiry_warning() is None
        assert (member(member_id).balance, member(member_id).pending) == (65, 15)


def test_cli_expire_release_and_verify(app, clock):
    member_id = make_member(app)
    _seed(app, member_id)
    runner = app.test_cli_runner()
    clock["day"] = DAY + timedelta(days=11)
    released = runner.invoke(args=["crm", "loyalty", "release"])
    assert released.exit_code == 0 and "released points: 1" in released.output
    expired = runner.invoke(args=["crm", "loyalty", "expire"])
    assert expired.exit_code == 0 and "expired points: 0" in expired.output  # settled above
    good = runner.invoke(args=["crm", "loyalty", "verify"])
    assert good.exit_code == 0, good.output
    assert "1 members checked, 0 with problems" in good.output
    with app.app_context():
        member(member_id).balance = 999  # a broken cache
        db.session.commit()
    bad = runner.invoke(args=["crm", "loyalty", "verify"])
    assert bad.exit_code == 1
    assert "balance 999 != ledger 40" in bad.output
    assert "1 members checked, 1 with problems" in bad.output
