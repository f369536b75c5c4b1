"""``crm demo`` sets up the club (tiers, rules, rewards) and members with a points history,
once; every demo member's ledger is consistent."""

from sqlalchemy import func, select

from core.extensions import db


def _counts(app) -> dict:
    from modules.loyalty.models.ledger import Entry, Lot
    from modules.loyalty.models.members import Member
    from modules.loyalty.models.rewards import Redemption, Reward
    from modules.loyalty.models.rules import Rule
    from modules.loyalty.models.tiers import Tier

    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                for m in (Tier, Rule, Reward, Member, Entry, Lot, Redemption)}


def test_demo_club_is_realistic_consistent_and_loaded_once(app, runner):
    from core.messaging.models import MessageLog
    from modules.loyalty.ledger import problems
    from modules.loyalty.models.ledger import Entry
    from modules.loyalty.models.members import Member
    from modules.loyalty.models.rewards import Reward
    from modules.loyalty.models.rules import Rule
    from modules.loyalty.models.tiers import Tier

    first = runner.invoke(args=["crm", "demo"])
    assert first.exit_code == 0, first.output
    counts = _counts(app)
    with app.app_context():
        tiers = {t.code: (t.name_fa, t.sla_class) for t in db.session.scalars(select(Tier))}
        assert tiers == {"bronze": ("برنزی", "bronze"), "silver": ("نقره‌ای", "silver"),
                         "gold": ("طلایی", "gold")}
        kinds = set(db.session.scalars(select(Rule.kind)))
        assert {"spend", "first_purchase", "window"} <= kinds
        assert set(db.session.scalars(select(Reward.kind))) == {"coupon", "gift_product",
                                                                "gift_card"}
        assert db.session.scalar(select(Reward.stock).where(Reward.kind == "gift_product")) < 40
        members = db.session.scalars(select(Member)).all()
        assert len(members) >= 6
        assert {e for e in db.session.scalars(select(Entry.kind).distinct())} >= {
            "earn", "redeem", "expire"}
        assert all(problems(m) == [] for m in members)
        assert any(m.tier is not None and m.tier.code != "bronze" for m in members)
        assert db.session.scalar(select(func.count()).select_from(MessageLog).where(
            MessageLog.preview.like("%club%") | MessageLog.preview.like("%باشگاه%"))) == 0
    second = runner.invoke(args=["crm", "demo"])
    assert second.exit_code == 0, second.output
    assert _counts(app) == counts
