"""Helpers for the rewards and coupon tests: rewards, tiers and points made through the
services."""

from core.extensions import db
from tests.modules.loyalty.club_helpers import member


def make_reward(app, **fields) -> int:
    """A reward saved through the catalogue service (a 10% coupon costing 100 points)."""
    from modules.loyalty.rewards import save_reward

    values = {"kind": "coupon", "name_fa": "تخفیف ده درصد", "name_en": "Ten percent off",
              "cost_points": 100, "percent_bp": 1000}
    values.update(fields)
    with app.test_request_context():
        reward = save_reward(None, **values)
        db.session.commit()
        return reward.id


def make_tier(app, code="gold", rank=2, **fields) -> int:
    from modules.loyalty.models.tiers import Tier

    with app.app_context():
        tier = Tier(code=code, name_fa=fields.pop("name_fa", "طلایی"),
                    name_en=fields.pop("name_en", "Gold"), rank=rank, **fields)
        db.session.add(tier)
        db.session.commit()
        return tier.id


def give_points(app, member_id, points) -> None:
    from modules.loyalty import ledger

    with app.test_request_context():
        ledger.earn(member(member_id), points, reason="test", reference="test", pending_days=0)
        db.session.commit()


def redeem(app, member_id, reward_id, channel="staff"):
    """Redeem in a POST request context; returns (redemption id, coupon code or None)."""
    from modules.loyalty.models.rewards import Reward
    from modules.loyalty.rewards import redeem_reward

    with app.test_request_context("/", method="POST"):
        redemption = redeem_reward(member(member_id), db.session.get(Reward, reward_id),
                                   channel=channel)
        db.session.commit()
        return redemption.id, (redemption.coupon.code if redemption.coupon else None)


def customer_of(app, member_id) -> int:
    with app.app_context():
        return member(member_id).customer_id
