"""The ledger's moves one by one: pending release, expiry, refunds, returned redemptions,
adjustments, merging two members, and the invariant check."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member

DAY = date(2026, 5, 10)


@pytest.fixture
def clock(monkeypatch):
    from modules.loyalty import ledger

    now = {"day": DAY}
    monkeypatch.setattr(ledger, "today", lambda: now["day"])
    return now


def _lots(member_id):
    from modules.loyalty.models.ledger import Lot

    return [(lot.reference, lot.remaining, lot.status) for lot in db.session.execute(
        select(Lot).where(Lot.member_id == member_id).order_by(Lot.id)).scalars()]


def test_pending_points_wait_for_the_return_window(app, clock):
    from modules.loyalty import ledger

    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 80, reason="buy", reference="inv-1", pending_days=7)
        db.session.commit()
        assert (member(member_id).balance, member(member_id).pending) == (0, 80)
        with pytest.raises(ledger.InsufficientPoints):
            ledger.redeem(member(member_id), 1, reason="too soon")
        db.session.rollback()
        clock["day"] = DAY + timedelta(days=6)
        assert ledger.release_due() == 0
        clock["day"] = DAY + timedelta(days=7)
        assert ledger.release_due() == 1
        assert ledger.release_due() == 0
        assert (member(member_id).balance, member(member_id).pending) == (80, 0)
        assert _lots(member_id) == [("inv-1", 80, "available")]
        assert_ledger_ok(member_id)


def test_settling_on_redeem_even_when_jobs_are_late(app, clock):
    from modules.loyalty import ledger

    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 50, reason="old", reference="old",
                    pending_days=0, expires_on=DAY + timedelta(days=3))
        ledger.earn(member(member_id), 30, reason="new", reference="new", pending_days=2)
        db.session.commit()
        clock["day"] = DAY + timedelta(days=4)  # no job ran: the redemption settles first
        with pytest.raises(ledger.InsufficientPoints) as refused:
            ledger.redeem(member(member_id), 31, reason="gift")
        assert (refused.value.wanted, refused.value.available) == (31, 30)
        db.session.commit()
        assert _lots(member_id) == [("old", 0, "expired"), ("new", 30, "available")]
        assert_ledger_ok(member_id)


def test_refund_takes_back_what_is_left_then_from_other_points(app, clock):
    from modules.loyalty import ledger

    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 100, reason="inv 1", reference="sales.invoice:1",
                    pending_days=0, expires_on=DAY + timedelta(days=10))
        ledger.earn(member(member_id), 70, reason="inv 2", reference="sales.invoice:2",
                    pending_days=0, expires_on=DAY + timedelta(days=90))
        ledger.redeem(member(member_id), 60, reason="mug")  # all from invoice 1 (sooner)
        db.session.commit()
        entries = ledger.reverse_earning(member(member_id), "sales.invoice:1", 100,
                                         reason="credit note", key="reverse:note:5")
        db.session.commit()
        assert [(e.points, e.bucket) for e in entries] == [(-40, "available"),
                                                           (-60, "available")]
        assert member(member_id).balance == 10
        assert _lots(member_id) == [("sales.invoice:1", 0, "reversed"),
                                    ("sales.invoice:2", 10, "available")]
        again = ledger.reverse_earning(member(member_id), "sales.invoice:1", 100,
                                       reason="credit note", key="reverse:note:5")
        assert [e.id for e in again] == [e.id for e in entries]  # the same key: once
        # a second credit note for the same invoice finds nothing left to take
        assert ledger.reverse_earning(member(member_id), "sales.invoice:1", 50,
                                      reason="again", key="reverse:note:6") == []
        assert member(member_id).balance == 10
        assert_ledger_ok(member_id)


def test_refund_of_pending_points_and_never_below_zero(app, clock):
    from modules.loyalty import ledger

    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 40, reason="a", reference="r-pending", pending_days=14)
        ledger.earn(member(member_id), 30, reason="b", reference="r-spent", pending_days=0)
        ledger.redeem(member(member_id), 25, reason="x")
        db.session.commit()
        pending = ledger.reverse_earning(member(member_id), "r-pending", 15, reason="part")
        assert [(e.points, e.bucket) for e in pending] == [(-15, "pending")]
        assert (member(member_id).balance, member(member_id).pending) == (5, 25)
        # 30 earned, 25 spent, 5 left; the refund wants all 30: 5 from the lot, 0 more left
        spent = ledger.reverse_earning(member(member_id), "r-spent", 30, reason="all")
        assert [e.points for e in spent] == [-5]
        assert (member(member_id).balance, member(member_id).pending) == (0, 25)
        db.session.commit()
        assert_ledger_ok(member_id)


def test_refund_never_takes_expired_points_twice(app, clock):
    from modules.loyalty import ledger

    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 50, reason="a", reference="gone", pending_days=0,
                    expires_on=DAY)
        ledger.earn(member(member_id), 50, reason="b", reference="other", pending_days=0,
                    expires_on=DAY + timedelta(days=60))
        db.session.commit()
        clock["day"] = DAY + timedelta(days=1)
        assert ledger.reverse_earning(member(member_id), "gone", 50, reason="late") == []
        assert member(member_id).balance == 50
        db.session.commit()
        assert_ledger_ok(member_id)


def test_returned_redemption_goes_back_to_its_lots_except_expired(app, clock):
    from modules.loyalty import ledger

    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 30, reason="a", reference="soon", pending_days=0,
                    expires_on=DAY + timedelta(days=2))
        ledger.earn(member(member_id), 50, reason="b", reference="late", pending_days=0,
                    expires_on=DAY + timedelta(days=60))
        spent = ledger.redeem(member(member_id), 45, reason="reward")
        db.session.commit()
        assert member(member_id).lifetime_redeemed == 45
        clock["day"] = DAY + timedelta(days=3)  # the "soon" lot's 30 expire meanwhile
        back = ledger.return_redemption(spent, reason="cancelled")
        db.session.commit()
        assert (back.kind, back.points, back.reverses_id) == ("redeem", 15, spent.id)
        assert member(member_id).balance == 50
        assert member(member_id).lifetime_redeemed == 30
        assert member(member_id).lifetime_earned == 80  # giving back is not earning
        assert _lots(member_id) == [("soon", 0, "used"), ("late", 50, "available")]
        assert ledger.return_redemption(spent, reason="twice").id == back.id
        with pytest.raises(ledger.LedgerError):
            ledger.return_redemption(back, reason="a return is not a redemption")
        db.session.rollback()
        assert_ledger_ok(member_id)


def test_adjustments_and_refusals(app, clock):
    from flask_babel import force_locale

    from modules.loyalty import ledger
    from modules.loyalty.members import opt_out

    member_id = make_member(app)
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(ledger.LedgerError, match="Say why"):
            ledger.adjust(member(member_id), 10, reason=" ")
        for bad in (0, -1, 1.5, True, 10**12):
            with pytest.raises(ledger.LedgerError):
                ledger.earn(member(member_id), bad, reason="x")
        with pytest.raises(ledger.LedgerError):
            ledger.earn(member(member_id), 5, reason="x", pending_days=3, expires_on=DAY)
        db.session.rollback()
        entry = ledger.adjust(member(member_id), 20, reason="goodwill")
        assert (entry.kind, entry.bucket, member(member_id).balance) == ("adjust", "available", 20)
        opt_out(member(member_id))
        with pytest.raises(ledger.LedgerError, match="left the club"):
            ledger.earn(member(member_id), 5, reason="x")
        taken = ledger.adjust(member(member_id), -15, reason="mistake")  # still allowed
        assert (taken.points, member(member_id).balance) == (-15, 5)
        with pytest.raises(ledger.InsufficientPoints):
            ledger.adjust(member(member_id), -6, reason="too much")
        db.session.rollback()


def test_merge_members_combines_balances_and_lots(app, clock):
    from modules.loyalty import ledger
    from modules.loyalty.models.ledger import Entry

    keep = make_member(app, last_name="Keep")
    gone = make_member(app, last_name="Gone")
    with app.test_request_context():
        ledger.earn(member(keep), 30, reason="a", reference="k", pending_days=0,
                    expires_on=DAY + timedelta(days=50))
        ledger.earn(member(gone), 20, reason="b", reference="g", pending_days=0,
                    expires_on=DAY + timedelta(days=5))
        ledger.earn(member(gone), 9, reason="c", reference="g2", pending_days=4)
        db.session.commit()
        with pytest.raises(ledger.LedgerError):
            ledger.merge_members(member(keep), member(keep))
        ledger.merge_members(member(keep), member(gone))
        db.session.commit()
        kept = member(keep)
        assert (kept.balance, kept.pending, kept.lifetime_earned) == (50, 9, 59)
        assert (member(gone).balance, member(gone).pending) == (0, 0)
        assert db.session.execute(select(Entry).where(Entry.member_id == gone)).first() is None
        spent = ledger.redeem(kept, 25, reason="after merge")  # the loser's lot expires first
        db.session.commit()
        from modules.loyalty.models.ledger import LotUse

        assert [(u.lot.reference, u.points) for u in db.session.execute(
            select(LotUse).where(LotUse.entry_id == spent.id)).scalars()] == [("g", 20),
                                                                              ("k", 5)]
        assert_ledger_ok(keep)
        assert_ledger_ok(gone)


def test_problems_names_what_is_wrong(app, clock):
    from modules.loyalty import ledger

    member_id = make_member(app)
    with app.test_request_context():
        ledger.earn(member(member_id), 10, reason="a", pending_days=0)
        db.session.commit()
        broken = member(member_id)
        broken.balance = 12
        assert ledger.problems(broken) == ["balance 12 != ledger 10",
                                           "balance 12 != available lots 10"]
        db.session.rollback()
        assert ledger.problems(member(member_id)) == []


def test_jalali_months():
    from modules.loyalty.ledger import add_jalali_months

    assert add_jalali_months(date(2026, 3, 21), 12) == date(2027, 3, 21)  # 1 Farvardin 1405
    # 31 Shahrivar + 1 month → 30 Mehr (a 30-day month)
    assert add_jalali_months(date(2025, 9, 22), 1) == date(2025, 10, 22)
    assert add_jalali_months(date(2025, 3, 20), 0) == date(2025, 3, 20)
