"""Tiers: upgrade at once with an SMS, downgrade scheduled with one notice and done when due,
cancelled when the member qualifies again; progress; the SLA class for the service module."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def club(app, make_user):
    """Bronze for everyone, silver from 100 points or 5,000,000 rials spent, gold from 500
    points; 1 point per 10,000 rials; notices in English."""
    from core.database import set_setting
    from modules.loyalty.models.rules import Rule
    from modules.loyalty.models.tiers import Tier

    make_user(seats=["loyalty"])
    with app.app_context():
        set_setting("display.language", "en")
        tiers = [Tier(code="bronze", name_fa="برنزی", name_en="Bronze", rank=1),
                 Tier(code="silver", name_fa="نقره‌ای", name_en="Silver", rank=2,
                      min_points=100, min_spend=5_000_000, sla_class="priority"),
                 Tier(code="gold", name_fa="طلایی", name_en="Gold", rank=3, min_points=500)]
        db.session.add_all(tiers)
        db.session.add(Rule(name="Base", kind="spend", points=1, per_amount=10_000))
        db.session.commit()
        return {t.code: t.id for t in tiers}


def _sms():
    from core.messaging.models import MessageLog

    return [m.preview for m in db.session.execute(
        select(MessageLog).where(MessageLog.channel == "sms").order_by(MessageLog.id)).scalars()]


def _changes(member_id):
    from modules.loyalty.models.tiers import TierChange

    return [(c.direction, c.status, c.to_tier.code if c.to_tier else None)
            for c in db.session.execute(select(TierChange).where(
                TierChange.member_id == member_id).order_by(TierChange.id)).scalars()]


def _purchase(member_id, amount, ref):
    from modules.loyalty import earning

    entries = earning.earn_for_purchase(member(member_id), amount=amount, reference=ref,
                                        key=f"earn:{ref}")
    db.session.commit()
    return entries


def test_up_at_once_down_after_notice(app, club):
    from modules.loyalty import earning, tiers
    from modules.loyalty.models.tiers import TierChange

    member_id = make_member(app, mobiles=["09121234567"], consent_sms=True)
    with app.test_request_context():
        assert member(member_id).tier.code == "bronze"  # on enrolment, without an SMS
        _purchase(member_id, 1_500_000, "pos:1")  # 150 points: silver at once
        assert member(member_id).tier.code == "silver"
        assert _changes(member_id) == [("up", "done", "bronze"), ("up", "done", "silver")]
        sms = _sms()
        assert sms[-1] == "Congratulations! Your club tier is now Silver."
        assert "150 points were added" in sms[-2]
        progress = tiers.tier_progress(member(member_id))
        assert (progress["tier"].code, progress["next"].code, progress["points"],
                progress["missing_points"]) == ("silver", "gold", 150, 350)
        assert progress["spend"] == 1_500_000  # a purchase only the club recorded

        # a refund takes the points back: the downgrade is scheduled with one notice
        earning.ledger.reverse_earning(member(member_id), "pos:1", 150, reason="refund",
                                       key="reverse:pos:1")
        change = tiers.evaluate(member(member_id))
        db.session.commit()
        assert (change.direction, change.status, change.to_tier.code) == (
            "down", "scheduled", "bronze")
        notice_days = earning.ledger.club_settings().downgrade_notice_days
        assert (change.effective_at - change.created_at) == timedelta(days=notice_days)
        assert _sms()[-1].startswith("On ") and "from Silver to Bronze" in _sms()[-1]
        before = len(_sms())
        assert tiers.review() == 1  # still scheduled, no second notice
        assert len(_sms()) == before and member(member_id).tier.code == "silver"
        # when it falls due, the review does it
        later = change.created_at + timedelta(days=notice_days, hours=1)
        tiers.review(now=later)
        assert member(member_id).tier.code == "bronze"
        done = db.session.get(TierChange, change.id)
        assert done.status == "done"
        assert _sms()[-1] == "Your club tier is now Bronze."
        assert len(_sms()) == before + 1
        assert_ledger_ok(member_id)


def test_a_scheduled_downgrade_is_cancelled_when_they_qualify_again(app, club):
    from modules.loyalty import ledger, tiers

    member_id = make_member(app)
    with app.test_request_context():
        _purchase(member_id, 1_000_000, "pos:1")
        assert member(member_id).tier.code == "silver"
        ledger.reverse_earning(member(member_id), "pos:1", 100, reason="refund")
        tiers.evaluate(member(member_id))
        db.session.commit()
        assert _changes(member_id)[-1] == ("down", "scheduled", "bronze")
        _purchase(member_id, 1_000_000, "pos:2")  # qualifies again
        assert _changes(member_id)[-1] == ("down", "cancelled", "bronze")
        assert member(member_id).tier.code == "silver"
        assert tiers.scheduled_downgrade(member(member_id)) is None


def test_spend_qualifies_and_sla_class(app, club):
    from datetime import UTC, datetime

    from core.analytics.models import Purchase
    from modules.loyalty import services, tiers

    member_id = make_member(app)
    with app.test_request_context():
        customer_id = member(member_id).customer_id
        db.session.add(Purchase(customer_id=customer_id, amount=5_000_000, source="shop",
                                occurred_at=datetime.now(UTC)))
        db.session.commit()
        assert tiers.tier_progress(member(member_id))["spend"] == 5_000_000
        tiers.evaluate(member(member_id))
        db.session.commit()
        assert member(member_id).tier.code == "silver"
        assert services.customer_tier(customer_id) == "priority"  # the SLA class
        from modules.service.sla_state import loyalty_tier

        assert loyalty_tier(customer_id) == "priority"
