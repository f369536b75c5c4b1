"""Club demo data for ``crm demo``: three tiers, earning rules (spend, a category multiplier,
first-purchase bonus, the Nowruz week), rewards (a coupon, a gift product, a gift card) and
members from the demo customers with a history of earning, redeeming and expiring.

Idempotent: tiers are found by code, rules and rewards by name, customers are enrolled once
and every demo ledger entry carries a ``demo:`` key, so a second run adds nothing. All points
move through ``modules.loyalty.ledger``, so every member's ledger is consistent; the demo
sends no SMS.
"""

from datetime import timedelta

import jdatetime
from sqlalchemy import select, update

from core.extensions import db

# code, Persian name, English name, rank, min points in the window, multiplier, discount, color
TIERS = (
    ("bronze", "برنزی", "Bronze", 1, 0, 10000, 0, "secondary"),
    ("silver", "نقره‌ای", "Silver", 2, 1500, 12500, 200, "info"),
    ("gold", "طلایی", "Gold", 3, 6000, 15000, 500, "warning"),
)
MEMBERS = 12
# days ago, points, reason: each member's purchases (every other member skips the last ones)
PURCHASES = ((300, 400, "خرید از فروشگاه"), (150, 900, "خرید اینترنتی"),
             (60, 1300, "خرید از فروشگاه"), (12, 700, "خرید اینترنتی"))


def _tiers(ctx) -> dict:
    from modules.loyalty.models.tiers import Tier

    found = {}
    for code, fa, en, rank, points, multiplier, discount, color in TIERS:
        tier = db.session.execute(select(Tier).where(Tier.code == code)).scalar()
        if tier is None:
            tier = Tier(code=code, name_fa=fa, name_en=en, rank=rank, min_points=points,
                        multiplier_bp=multiplier, discount_bp=discount, sla_class=code,
                        color=color, active=True)
            db.session.add(tier)
            ctx.notes.append(f"club tier {code} created")
        found[code] = tier
    db.session.flush()
    return found


def _nowruz_week(today) -> tuple:
    """The next Nowruz week (1–7 Farvardin), this year's while it has not ended."""
    year = jdatetime.date.fromgregorian(date=today).year
    start = jdatetime.date(year, 1, 1).togregorian()
    if start + timedelta(days=6) < today:
        start = jdatetime.date(year + 1, 1, 1).togregorian()
    return start, start + timedelta(days=6)


def _rules(ctx, today) -> None:
    from modules.loyalty.models.rules import Rule
    from modules.sales.services import product_categories

    categories = product_categories()
    nowruz = _nowruz_week(today)
    rules = [
        dict(name="امتیاز هر خرید", kind="spend", points=1, per_amount=100_000,
             cap_per_day=5000),
        dict(name="هدیه اولین خرید", kind="first_purchase", points=100),
        dict(name="هفته نوروز: امتیاز دوبرابر", kind="window", multiplier_bp=20000,
             starts_on=nowruz[0], ends_on=nowruz[1]),
        dict(name="امتیاز تولد", kind="birthday", points=200),
        dict(name="معرفی دوستان", kind="referral", points=150),
    ]
    if categories:
        category_id, category_name = categories[0]
        rules.append(dict(name=f"امتیاز ۱٫۵ برابر: {category_name}"[:120], kind="category",
                          multiplier_bp=15000, category_id=category_id))
    for fields in rules:
        exists = db.session.execute(select(Rule.id).where(Rule.name == fields["name"])).first()
        if exists is None:
            db.session.add(Rule(active=True, **fields))
            ctx.notes.append(f"club rule {fields['name']} created")
    db.session.flush()


def _rewards(ctx, tiers) -> None:
    from modules.loyalty.models.rewards import Reward
    from modules.sales.services import product_by_code

    gift = None
    for code in ("MUG", "GIFT", "USB-32"):
        gift = product_by_code(code)
        if gift is not None:
            break
    rewards = (
        dict(kind="coupon", name_fa="کوپن ۱۰٪ تخفیف", name_en="10% off coupon",
             cost_points=500, percent_bp=1000, max_discount=5_000_000, min_purchase=10_000_000,
             valid_days=60, description="تا سقف ۵۰۰ هزار تومان، برای خرید بالای یک میلیون تومان"),
        dict(kind="gift_product", name_fa="ماگ باشگاه مشتریان", name_en="Club mug",
             cost_points=300, stock=40, product_id=gift.id if gift else None,
             description="تحویل در فروشگاه"),
        dict(kind="gift_card", name_fa="کارت هدیه ۲۰۰ هزار تومانی",
             name_en="Gift card, 200,000 tomans", cost_points=2000, amount=2_000_000,
             valid_days=180, min_tier_id=tiers["silver"].id),
    )
    for fields in rewards:
        found = db.session.execute(select(Reward.id).where(
            Reward.name_fa == fields["name_fa"])).first()
        if found is None:
            db.session.add(Reward(active=True, **fields))
            ctx.notes.append(f"club reward {fields['name_en']} created")
    db.session.flush()


def _history(member, index: int, today) -> None:
    """Purchases over the last year, a redemption, and for some an expired batch."""
    from modules.loyalty import ledger
    from modules.loyalty.models.ledger import Entry, Lot

    key = f"demo:{member.customer_id}"
    purchases = PURCHASES if index % 2 == 0 else PURCHASES[:2]
    for n, (days, points, reason) in enumerate(purchases):
        points = points + 37 * index
        earned_on = today - timedelta(days=days)
        entry = ledger.earn(member, points, reason=reason, reference=f"DEMO-{index}-{n + 1}",
                            key=f"{key}:earn:{n}", amount=points * 100_000, pending_days=0,
                            expires_on=ledger.add_jalali_months(earned_on, 12))
        _backdate(entry, earned_on)
    if index % 3 == 0:  # a small batch from two years ago, expired in the meantime
        old = today - timedelta(days=700)
        entry = ledger.earn(member, 120 + index, reason="هدیه ثبت‌نام",
                            reference=f"DEMO-{index}-0", key=f"{key}:old", pending_days=0,
                            expires_on=today)
        ledger.settle(ledger.lock_member(member.id), today + timedelta(days=1))
        _backdate(entry, old, expires_on=ledger.add_jalali_months(old, 12))
    if index % 2 == 1:
        _redeem(member, index, key, today)
    db.session.flush()
    # expiry entries happened when their lot's date passed
    for lot in db.session.execute(select(Lot).where(
            Lot.member_id == member.id, Lot.status == "expired")).scalars():
        db.session.execute(update(Entry).where(Entry.key == f"expire:lot:{lot.id}").values(
            created_at=_midnight(lot.expires_on + timedelta(days=1)))
            .execution_options(synchronize_session=False))


def _midnight(day):
    from core.i18n import utc_range

    return utc_range(day, day)[0]


def _backdate(entry, day, expires_on=None) -> None:
    """Demo history: the entry (and its lot) dated ``day`` instead of today."""
    from modules.loyalty.models.ledger import Entry, Lot

    at = _midnight(day) + timedelta(hours=10)
    db.session.execute(update(Entry).where(Entry.id == entry.id).values(created_at=at)
                       .execution_options(synchronize_session=False))
    lot = {"expires_on": expires_on} if expires_on else {}
    db.session.execute(update(Lot).where(Lot.entry_id == entry.id)
                       .values(earned_at=at, available_on=day, **lot)
                       .execution_options(synchronize_session=False))


def _redeem(member, index: int, key: str, today) -> None:
    """A reward taken twenty days ago (the coupon or the mug), through the rewards code when
    it is there, else a plain redemption of the ledger."""
    from modules.loyalty import ledger, rewards
    from modules.loyalty.models.ledger import Entry
    from modules.loyalty.models.rewards import Redemption, Reward

    name = "کوپن ۱۰٪ تخفیف" if index % 4 == 1 else "ماگ باشگاه مشتریان"
    reward = db.session.execute(select(Reward).where(Reward.name_fa == name)).scalar()
    redeem_reward = getattr(rewards, "redeem_reward", None)
    at = _midnight(today - timedelta(days=20)) + timedelta(hours=12)
    if reward is not None and callable(redeem_reward):
        try:
            redemption = redeem_reward(member, reward, channel="staff", key=f"{key}:redeem")
        except (ledger.LedgerError, getattr(rewards, "RewardError", ledger.LedgerError)):
            return
        db.session.execute(update(Redemption).where(Redemption.id == redemption.id)
                           .values(created_at=at).execution_options(synchronize_session=False))
        db.session.execute(update(Entry).where(Entry.id == redemption.entry_id)
                           .values(created_at=at).execution_options(synchronize_session=False))
        return
    paid = ledger.redeem(member, 300, reason=name, reference=f"DEMO-{index}-R",
                         key=f"{key}:redeem")
    _backdate(paid, today - timedelta(days=20))



def _members(ctx, today) -> None:
    from core.customers.models import Customer
    from modules.loyalty import tiers as tier_rules
    from modules.loyalty.members import enrol, member_of

    customers = list(db.session.execute(select(Customer).where(
        Customer.anonymised_at.is_(None), Customer.kind == "person")
        .order_by(Customer.id).limit(MEMBERS)).scalars())
    made = 0
    for index, customer in enumerate(customers):
        is_new = member_of(customer.id) is None
        member = enrol(customer, via="purchase" if index % 4 else "manual")
        _history(member, index, today)
        evaluate = getattr(tier_rules, "evaluate", None)
        if callable(evaluate):
            evaluate(member)
        db.session.commit()
        made += is_new
    if made:
        ctx.notes.append(f"{made} club members enrolled")


def load_loyalty(ctx) -> None:
    """The demo step (after customers and sales)."""
    from modules.loyalty import ledger, notify

    with notify.quiet():
        today = ledger.today()
        tiers = _tiers(ctx)
        _rules(ctx, today)
        _rewards(ctx, tiers)
        db.session.commit()
        _members(ctx, today)


def register(app) -> None:
    from core.demo import add_demo_step

    add_demo_step(app, "loyalty", load_loyalty, order=105)
