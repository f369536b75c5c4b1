"""Club SMS notices reach a real local HTTP gateway only for active members who agreed to
text messages; in the deployment's language with Persian digits and Jalali dates; once per
event; never raising into the caller."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import outbox
from core.database import set_setting, utcnow
from core.extensions import db
from core.messaging.models import MessageLog
from tests.core.messaging.servers import HttpGateway
from tests.modules.loyalty.club_helpers import make_member, member


@pytest.fixture
def gateway(app):
    server = HttpGateway().start()
    server.respond = lambda req: (200, "OK")
    with app.app_context():
        set_setting("sms.provider", "generic")
        set_setting("sms.config", {"url": server.url + "/send", "method": "POST",
                                   "success_substring": "OK"})
        db.session.commit()
    yield server
    server.stop()


def _deliver(app) -> None:
    with app.app_context():
        outbox.relay_once()


def _texts(gateway) -> list[str]:
    return [req.form["text"] for req in gateway.requests]


def test_points_earned_goes_out_once_with_persian_digits(app, gateway):
    from modules.loyalty import ledger, notify

    member_id = make_member(app, mobiles=["09121234567"], consent_sms=True)
    with app.test_request_context():
        entry = ledger.earn(member(member_id), 1250, reason="خرید")
        assert notify.points_earned(member(member_id), [entry]) is True
        assert notify.points_earned(member(member_id), [entry]) is True  # same key: once
        db.session.commit()
        log = db.session.execute(select(MessageLog)).scalars().all()
        assert len(log) == 1 and log[0].customer_key == f"customer:{member(member_id).customer_id}"
    _deliver(app)
    [text] = _texts(gateway)
    assert "۱٬۲۵۰" in text and "1250" not in text
    assert gateway.requests[0].form["to"].endswith("9121234567")


def test_no_sms_without_consent_mobile_or_membership(app, gateway):
    from modules.loyalty import ledger, notify
    from modules.loyalty.members import opt_out

    no_consent = make_member(app, mobiles=["09121234568"], consent_sms=False)
    no_mobile = make_member(app, consent_sms=True)
    left = make_member(app, mobiles=["09121234569"], consent_sms=True)
    with app.test_request_context():
        sent = []
        for member_id in (no_consent, no_mobile, left):
            entry = ledger.earn(member(member_id), 10, reason="x")
            if member_id == left:
                opt_out(member(member_id))
            sent.append(notify.points_earned(member(member_id), [entry]))
        db.session.commit()
        assert sent == [False, False, False]
        assert db.session.scalar(select(func.count()).select_from(MessageLog)) == 0
    _deliver(app)
    assert gateway.requests == []


def test_expiring_points_name_the_jalali_date(app, gateway):
    from core.i18n import jdate
    from modules.loyalty import ledger, notify

    member_id = make_member(app, mobiles=["09121234567"], consent_sms=True)
    with app.test_request_context():
        day = ledger.today() + timedelta(days=9)
        ledger.earn(member(member_id), 300, reason="خرید", expires_on=day)
        lots = ledger.expiring(member_id, 30)
        assert notify.points_expiring(member(member_id), lots) is True
        db.session.commit()
        shown = jdate(day, locale="fa")
    _deliver(app)
    [text] = _texts(gateway)
    assert "۳۰۰" in text and shown in text


def test_tier_change_and_downgrade_notice(app, gateway):
    from modules.loyalty import notify
    from modules.loyalty.models.tiers import Tier, TierChange

    member_id = make_member(app, mobiles=["09121234567"], consent_sms=True)
    with app.test_request_context():
        silver = Tier(code="silver", name_fa="نقره‌ای", name_en="Silver", rank=2)
        gold = Tier(code="gold", name_fa="طلایی", name_en="Gold", rank=3)
        db.session.add_all([silver, gold])
        db.session.flush()
        up = TierChange(member_id=member_id, from_tier_id=silver.id, to_tier_id=gold.id,
                        direction="up", status="done")
        down = TierChange(member_id=member_id, from_tier_id=gold.id, to_tier_id=silver.id,
                          direction="down", status="scheduled",
                          effective_at=utcnow() + timedelta(days=30))
        db.session.add_all([up, down])
        db.session.flush()
        assert notify.tier_changed(member(member_id), up) is True
        assert notify.downgrade_notice(member(member_id), down) is True
        db.session.commit()
    _deliver(app)
    up_text, down_text = _texts(gateway)
    assert "طلایی" in up_text
    assert "طلایی" in down_text and "نقره‌ای" in down_text and "۱۴" in down_text


def test_english_deployment_and_a_failure_never_raises(app, gateway):
    from modules.loyalty import ledger, notify

    member_id = make_member(app, mobiles=["09121234567"], consent_sms=True)
    with app.test_request_context():
        set_setting("display.language", "en")
        entry = ledger.earn(member(member_id), 40, reason="x")
        assert notify.points_earned(member(member_id), [entry]) is True
        assert notify.points_earned(member(member_id), [object()]) is False  # broken input
        assert notify.tier_changed(None, object()) is False
        with notify.quiet():
            assert notify.points_expiring(member(member_id), ledger.expiring(member_id)) \
                is False
        db.session.commit()  # the caller's transaction is intact
        assert member(member_id).balance == 40
    _deliver(app)
    [text] = _texts(gateway)
    assert "40 points" in text
