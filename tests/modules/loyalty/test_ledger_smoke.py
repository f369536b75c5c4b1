"""The ledger's basic moves: earn, redeem oldest first, refuse overspending, expire once."""

from datetime import timedelta

import pytest

from core.extensions import db
from tests.modules.loyalty.club_helpers import assert_ledger_ok, make_member, member


def test_earn_redeem_expire(app):
    from modules.loyalty import ledger
    from modules.loyalty.models.ledger import Lot

    member_id = make_member(app)
    with app.test_request_context():
        today = ledger.today()
        ledger.earn(member(member_id), 100, reason="a", reference="r1",
                    expires_on=today + timedelta(days=30))
        ledger.earn(member(member_id), 50, reason="b", reference="r2",
                    expires_on=today + timedelta(days=5))
        db.session.commit()
        ledger.redeem(member(member_id), 70, reason="reward")
        db.session.commit()
        lots = {lot.reference: lot.remaining for lot in db.session.query(Lot)}
        assert lots == {"r1": 80, "r2": 0}  # the lot expiring sooner went first
        assert member(member_id).balance == 80
        with pytest.raises(ledger.InsufficientPoints):
            ledger.redeem(member(member_id), 81, reason="too much")
        db.session.rollback()
        assert ledger.expire_due(today + timedelta(days=31)) == 1
        assert ledger.expire_due(today + timedelta(days=31)) == 0
        assert member(member_id).balance == 0
        assert_ledger_ok(member_id)
