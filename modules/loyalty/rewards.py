"""Rewards: the catalogue members spend points on, redemption and its cancellation.

``redeem_reward`` runs in one savepoint of the caller's transaction: it locks the member,
checks the reward (on, tier, stock), takes one unit of stock with a conditional UPDATE (two
members cannot both get the last unit), spends the points through the ledger and issues the
coupon or gift card. Any refusal rolls all of it back, so nothing is ever half-written.
"""

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.extensions import db
from core.i18n import current_locale
from modules.loyalty import coupons, ledger
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.members import Member
from modules.loyalty.models.rewards import (
    REDEMPTION_CHANNELS,
    REWARD_KINDS,
    Redemption,
    Reward,
)
from modules.loyalty.models.tiers import Tier

MAX_MONEY = 10**15
percent_text = coupons.percent_text


class RewardError(Exception):
    """A reward that cannot be redeemed or saved; the message says why (``field`` names the
    form field it is about, when it is one)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def reward_name(reward: Reward, locale: str | None = None) -> str:
    """The reward's name in the reader's language."""
    if (locale or current_locale()) == "en":
        return reward.name_en or reward.name_fa
    return reward.name_fa or reward.name_en


def tier_name(tier: Tier | None, locale: str | None = None) -> str:
    if tier is None:
        return ""
    if (locale or current_locale()) == "en":
        return tier.name_en or tier.name_fa
    return tier.name_fa or tier.name_en


def kind_label(kind: str) -> str:
    return {"coupon": _("Discount coupon"), "gift_product": _("Gift product"),
            "gift_card": _("Gift card")}.get(kind, kind)


def channel_label(channel: str) -> str:
    return {"staff": _("By staff"), "portal": _("In the portal"),
            "api": _("Through the API")}.get(channel, channel)


# --- the catalogue -------------------------------------------------------------------------

def _whole(value, name: str, label: str, *, minimum: int = 0, maximum: int = MAX_MONEY,
           required: bool = False) -> int | None:
    if value in (None, ""):
        if required:
            raise RewardError(_("Enter %(what)s.", what=label), name)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RewardError(_("%(what)s is a whole number.", what=label), name)
    if not minimum <= value < maximum:
        raise RewardError(_("%(what)s is out of range.", what=label), name)
    return value


def save_reward(reward: Reward | None, *, kind: str, name_fa: str, name_en: str = "",
                cost_points, description: str = "", active: bool = True, stock=None,
                min_tier_id: int | None = None, percent_bp=0, amount=0, max_discount=None,
                min_purchase=0, valid_days=90, product_id: int | None = None) -> Reward:
    """Create or change a reward; ``RewardError`` (with the field) when a value is wrong.

    A coupon takes either a percent (``percent_bp``, 100 = 1%, optionally capped by
    ``max_discount``) or a fixed ``amount``; a gift card has a value (``amount``); a gift
    product names a sales product. ``stock`` None is unlimited.
    """
    if kind not in REWARD_KINDS:
        raise RewardError(_("Choose what kind of reward this is."), "kind")
    if reward is not None and reward.kind != kind and _redeemed(reward):
        raise RewardError(_("This reward has been redeemed, so its kind cannot change."), "kind")
    name_fa, name_en = (name_fa or "").strip(), (name_en or "").strip()
    if not name_fa and not name_en:
        raise RewardError(_("Give the reward a name."), "name_fa")
    cost = _whole(cost_points, "cost_points", _("the points it costs"), minimum=1,
                  maximum=ledger.MAX_POINTS, required=True)
    stock = _whole(stock, "stock", _("the stock"), maximum=10**9)
    valid_days = _whole(valid_days, "valid_days", _("the days it is valid"),
                        maximum=10_000) or 0
    min_purchase = _whole(min_purchase, "min_purchase", _("the minimum purchase")) or 0
    percent_bp = _whole(percent_bp, "percent_bp", _("the percent"), maximum=10_001) or 0
    amount = _whole(amount, "amount", _("the amount")) or 0
    max_discount = _whole(max_discount, "max_discount", _("the largest discount"))
    if min_tier_id is not None and db.session.get(Tier, min_tier_id) is None:
        raise RewardError(_("Choose a tier from the list."), "min_tier_id")
    if kind == "coupon":
        if bool(percent_bp) == bool(amount):
            raise RewardError(_("A coupon takes either a percent or an amount off, not both "
                                "and not neither."), "percent_bp")
        if max_discount is not None and not percent_bp:
            raise RewardError(_("Only a percent coupon has a largest discount."),
                              "max_discount")
        product_id = None
    elif kind == "gift_card":
        if not amount:
            raise RewardError(_("Enter the value of the gift card."), "amount")
        percent_bp, max_discount, product_id = 0, None, None
    else:
        if not product_id or not _product_exists(product_id):
            raise RewardError(_("Choose the product given as a gift."), "product_id")
        percent_bp, amount, max_discount, min_purchase = 0, 0, None, 0
    if reward is None:
        reward = Reward(kind=kind)
        db.session.add(reward)
    reward.kind = kind
    reward.name_fa, reward.name_en = name_fa or name_en, name_en or name_fa
    reward.description = (description or "").strip()
    reward.cost_points, reward.active, reward.stock = cost, bool(active), stock
    reward.min_tier_id, reward.percent_bp, reward.amount = min_tier_id, percent_bp, amount
    reward.max_discount, reward.min_purchase = max_discount, min_purchase
    reward.valid_days, reward.product_id = valid_days, product_id
    db.session.flush()
    return reward


def _product_exists(product_id: int) -> bool:
    from modules.sales import services as sales

    return product_id in sales.products_by_ids([product_id])


def _redeemed(reward: Reward) -> bool:
    return db.session.execute(select(Redemption.id).where(
        Redemption.reward_id == reward.id).limit(1)).scalar() is not None


def set_active(reward: Reward, active: bool) -> None:
    """Switch a reward on or off (an off reward stays in history but cannot be redeemed)."""
    reward.active = bool(active)
    db.session.flush()


def add_stock(reward: Reward, units: int) -> None:
    """Add (or, negative, take away) units of stock, atomically; never below zero."""
    if isinstance(units, bool) or not isinstance(units, int) or units == 0:
        raise RewardError(_("Enter how many units to add or take away."), "units")
    if reward.stock is None:
        raise RewardError(_("This reward has no stock limit."), "units")
    done = db.session.execute(update(Reward).where(
        Reward.id == reward.id, Reward.stock.is_not(None), Reward.stock + units >= 0,
        Reward.stock + units < 10**9)
        .values(stock=Reward.stock + units).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise RewardError(_("There are not that many units in stock."), "units")
    db.session.refresh(reward)


# --- redeeming -----------------------------------------------------------------------------

def tier_allows(member: Member, reward: Reward) -> bool:
    if reward.min_tier_id is None:
        return True
    needed = reward.min_tier or db.session.get(Tier, reward.min_tier_id)
    return member.tier is not None and member.tier.rank >= needed.rank


def available_rewards(member: Member) -> list[Reward]:
    """Rewards on offer to the member (on, in stock, their tier allows), cheapest first.

    Whether the member can afford each one is ``reward.cost_points <= member.balance``.
    """
    rows = db.session.execute(select(Reward).where(
        Reward.active.is_(True), (Reward.stock.is_(None)) | (Reward.stock > 0))
        .order_by(Reward.cost_points, Reward.id)).unique().scalars()
    return [reward for reward in rows if tier_allows(member, reward)]


def _refusal(member: Member, reward: Reward) -> str | None:
    if member.status != "active":
        return _("This member has left the club; rejoin them to redeem rewards.")
    if not reward.active:
        return _("%(reward)s is not on offer any more.", reward=reward_name(reward))
    if not tier_allows(member, reward):
        tier = reward.min_tier or db.session.get(Tier, reward.min_tier_id)
        return _("%(reward)s is for members of the %(tier)s tier and above.",
                 reward=reward_name(reward), tier=tier_name(tier))
    if reward.stock is not None and reward.stock <= 0:
        return _("%(reward)s is out of stock.", reward=reward_name(reward))
    return None


def redeem_reward(member: Member, reward: Reward, *, channel: str, by=None,
                  key: str | None = None) -> Redemption:
    """The member buys ``reward`` with points; returns the redemption (with its coupon).

    Raises ``RewardError`` (off, tier, stock, left the club) or the ledger's
    ``InsufficientPoints``/``LedgerError``; then nothing was written. With ``key`` (an
    idempotency key) a repeated call returns the first redemption.
    """
    if channel not in REDEMPTION_CHANNELS:
        raise ValueError(f"unknown redemption channel {channel!r}")
    with db.session.begin_nested():
        member = ledger.lock_member(member.id)  # first: a write, before any read
        if key is not None:
            done = _by_key(key)
            if done is not None:
                return done
        reward = db.session.get(Reward, reward.id, populate_existing=True)
        reason = _refusal(member, reward)
        if reason:
            raise RewardError(reason)
        if reward.stock is not None:
            taken = db.session.execute(update(Reward).where(
                Reward.id == reward.id, Reward.stock > 0)
                .values(stock=Reward.stock - 1).execution_options(synchronize_session=False))
            if taken.rowcount != 1:
                raise RewardError(_("%(reward)s is out of stock.", reward=reward_name(reward)))
        entry = ledger.redeem(member, reward.cost_points, key=key, by=by,
                              reason=_("Reward: %(reward)s", reward=reward_name(reward)),
                              reference=f"loyalty.reward:{reward.id}")
        coupon = (coupons.issue(reward, member.customer_id)
                  if reward.kind in ("coupon", "gift_card") else None)
        redemption = Redemption(member_id=member.id, reward_id=reward.id, entry_id=entry.id,
                                points=reward.cost_points, channel=channel, status="done",
                                coupon_id=coupon.id if coupon else None,
                                created_by_id=getattr(by, "id", None))
        db.session.add(redemption)
        db.session.flush()
    db.session.refresh(reward)
    return redemption


def _by_key(key: str) -> Redemption | None:
    return db.session.execute(select(Redemption).join(Entry, Entry.id == Redemption.entry_id)
                              .where(Entry.key == key)).scalar()


def cancel_redemption(redemption: Redemption, *, by) -> Redemption:
    """Give the points back, cancel the unused coupon, put the unit back in stock."""
    with db.session.begin_nested():
        ledger.lock_member(redemption.member_id)
        redemption = db.session.get(Redemption, redemption.id, populate_existing=True)
        if redemption.status != "done":
            raise RewardError(_("This redemption was already cancelled."))
        coupon = redemption.coupon
        if coupon is not None and not coupons.void(coupon):
            raise RewardError(_("Coupon %(code)s has been used, so this redemption cannot be "
                                "cancelled.", code=coupon.code))
        entry = db.session.get(Entry, redemption.entry_id)
        ledger.return_redemption(entry, by=by, reason=_(
            "Reward cancelled: %(reward)s", reward=reward_name(redemption.reward)))
        if redemption.reward.stock is not None:
            db.session.execute(update(Reward).where(Reward.id == redemption.reward_id,
                                                    Reward.stock.is_not(None))
                               .values(stock=Reward.stock + 1)
                               .execution_options(synchronize_session=False))
        redemption.status = "cancelled"
        db.session.flush()
    db.session.refresh(redemption.reward)
    return redemption


def register(app) -> None:
    """Nothing to wire: redemption is called by the views, the API and the portal."""
