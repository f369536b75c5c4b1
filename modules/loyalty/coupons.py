"""Coupon codes: issued by a reward, taken by a document (a sales quote), given back.

A discount coupon is used once; a gift card gives ``min(balance, amount)`` and keeps the
rest for the next purchase. Taking and giving back are conditional UPDATEs, so one code can
never be spent twice by two documents at the same moment. Every use is a ``CouponUse`` row
naming the document (``sales.quote:12``); functions run in the caller's transaction.
"""

import secrets
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from core.database import utcnow
from core.extensions import db
from core.i18n import jdate, to_latin_digits
from core.money import format_money
from modules.loyalty.members import CODE_ALPHABET
from modules.loyalty.models.rewards import Coupon, CouponUse, Reward

PREFIX = "PV"
BASIS_POINTS = 10_000


class CouponError(Exception):
    """A coupon that cannot be used (or given back), with a message for the user."""


def today() -> date:
    from modules.loyalty.ledger import today as club_today

    return club_today()


def new_code() -> str:
    """``PV-XXXX-XXXX`` from letters and digits no one confuses (no 0/O, 1/I/L)."""
    part = lambda: "".join(secrets.choice(CODE_ALPHABET) for _i in range(4))  # noqa: E731
    return f"{PREFIX}-{part()}-{part()}"


def canonical_code(text) -> str:
    """What a person typed as a stored code: any digits, any case, with or without dashes."""
    raw = "".join(ch for ch in to_latin_digits(str(text or "")).upper() if ch.isalnum())
    if len(raw) == 10 and raw.startswith(PREFIX):
        return f"{PREFIX}-{raw[2:6]}-{raw[6:]}"
    return raw[:20]


def find(code) -> Coupon | None:
    code = canonical_code(code)
    if not code:
        return None
    return db.session.execute(select(Coupon).where(Coupon.code == code)).scalar()


def issue(reward: Reward, customer_id: int) -> Coupon:
    """A new coupon (or gift card) of ``reward`` for the customer, with a unique code."""
    if reward.kind == "gift_card":
        kind = "gift_card"
    else:
        kind = "percent" if reward.percent_bp else "amount"
    valid_until = today() + timedelta(days=reward.valid_days) if reward.valid_days else None
    for _attempt in range(8):
        coupon = Coupon(code=new_code(), kind=kind, customer_id=customer_id,
                        reward_id=reward.id, percent_bp=reward.percent_bp or 0,
                        amount=reward.amount or 0, max_discount=reward.max_discount,
                        min_purchase=reward.min_purchase or 0,
                        balance=reward.amount if kind == "gift_card" else 0,
                        valid_until=valid_until, status="issued", used_on="")
        try:
            with db.session.begin_nested():
                db.session.add(coupon)
            return coupon
        except IntegrityError:  # the same random code twice: draw again
            continue
    raise CouponError(_("Could not make a coupon code; try again."))  # pragma: no cover


# --- what a coupon gives -------------------------------------------------------------------

def discount_for(coupon: Coupon, amount: int) -> int:
    """Rials the coupon takes off a purchase of ``amount`` (never more than the amount)."""
    amount = max(int(amount or 0), 0)
    if coupon.kind == "gift_card":
        value = coupon.balance
    elif coupon.kind == "percent":
        value = (2 * amount * coupon.percent_bp + BASIS_POINTS) // (2 * BASIS_POINTS)
        if coupon.max_discount:
            value = min(value, coupon.max_discount)
    else:
        value = coupon.amount
    return max(min(value, amount), 0)


def refusal(coupon: Coupon | None, code, customer_id: int | None, amount: int) -> str | None:
    """Why the coupon cannot be used by this customer on this amount (None: it can)."""
    shown = canonical_code(code) or str(code or "").strip()
    if coupon is None:
        return _("There is no coupon with the code %(code)s.", code=shown)
    if coupon.customer_id is not None and coupon.customer_id != customer_id:
        return _("Coupon %(code)s belongs to another customer; only its owner can use it.",
                 code=coupon.code)
    if coupon.status == "void":
        return _("Coupon %(code)s was cancelled.", code=coupon.code)
    if coupon.status == "used":
        if coupon.kind == "gift_card":
            return _("Gift card %(code)s has been spent.", code=coupon.code)
        return _("Coupon %(code)s was already used on %(date)s.", code=coupon.code,
                 date=jdate(coupon.used_at) if coupon.used_at else "—")
    if coupon.valid_until is not None and coupon.valid_until < today():
        return _("Coupon %(code)s expired on %(date)s.", code=coupon.code,
                 date=jdate(coupon.valid_until))
    if amount < (coupon.min_purchase or 0):
        return _("Coupon %(code)s needs a purchase of at least %(minimum)s; this one is "
                 "%(amount)s.", code=coupon.code, minimum=format_money(coupon.min_purchase),
                 amount=format_money(amount))
    if discount_for(coupon, amount) <= 0:
        return _("Coupon %(code)s gives nothing on this amount.", code=coupon.code)
    return None


def check(code, customer_id: int | None, amount: int) -> tuple[int, str]:
    """(discount in rials, message): what the code would take off; 0 and why not."""
    coupon = find(code)
    reason = refusal(coupon, code, customer_id, amount)
    if reason:
        return 0, reason
    discount = discount_for(coupon, amount)
    if coupon.kind == "gift_card":
        return discount, _("Gift card %(code)s pays %(discount)s; %(left)s stays on the card.",
                           code=coupon.code, discount=format_money(discount),
                           left=format_money(coupon.balance - discount))
    return discount, _("Coupon %(code)s takes %(discount)s off.", code=coupon.code,
                       discount=format_money(discount))


# --- taking and giving back ----------------------------------------------------------------

def use(code, customer_id: int | None, reference: str, amount: int) -> int:
    """Take the coupon for ``reference`` and return the discount; ``CouponError`` if refused.

    Atomic: a conditional UPDATE takes a discount coupon only while it is still unused, and
    a gift card's value only while its balance covers it.
    """
    reference = (reference or "")[:60]
    if not reference:
        raise ValueError("a coupon is used by a document reference")
    for _attempt in range(3):
        coupon = find(code)
        if coupon is not None:
            db.session.refresh(coupon)
        reason = refusal(coupon, code, customer_id, amount)
        if reason:
            raise CouponError(reason)
        discount = discount_for(coupon, amount)
        now = utcnow()
        if coupon.kind == "gift_card":
            taken = db.session.execute(
                update(Coupon).where(Coupon.id == coupon.id, Coupon.status == "issued",
                                     Coupon.balance >= discount)
                .values(balance=Coupon.balance - discount, used_at=now,
                        status=case((Coupon.balance == discount, "used"), else_="issued"))
                .execution_options(synchronize_session=False)).rowcount
        else:
            taken = db.session.execute(
                update(Coupon).where(Coupon.id == coupon.id, Coupon.status == "issued")
                .values(status="used", used_on=reference, used_at=now)
                .execution_options(synchronize_session=False)).rowcount
        if taken == 1:
            db.session.add(CouponUse(coupon_id=coupon.id, reference=reference,
                                     amount=discount, created_at=now))
            db.session.flush()
            db.session.refresh(coupon)
            return discount
    raise CouponError(_("Coupon %(code)s was just used elsewhere.", code=coupon.code))


def active_use(reference: str, coupon_id: int | None = None) -> CouponUse | None:
    """The coupon use ``reference`` holds now (not given back)."""
    stmt = select(CouponUse).where(CouponUse.reference == reference,
                                   CouponUse.released_at.is_(None))
    if coupon_id is not None:
        stmt = stmt.where(CouponUse.coupon_id == coupon_id)
    return db.session.execute(stmt.order_by(CouponUse.id.desc()).limit(1)).scalar()


def release(code, reference: str) -> int:
    """Give back what ``reference`` took from the coupon (0 if it held nothing)."""
    coupon = find(code)
    if coupon is None:
        return 0
    held = active_use(reference, coupon.id)
    if held is None:
        return 0
    now = utcnow()
    freed = db.session.execute(
        update(CouponUse).where(CouponUse.id == held.id, CouponUse.released_at.is_(None))
        .values(released_at=now).execution_options(synchronize_session=False)).rowcount
    if freed != 1:
        return 0
    if coupon.kind == "gift_card":
        db.session.execute(
            update(Coupon).where(Coupon.id == coupon.id)
            .values(balance=Coupon.balance + held.amount,
                    status=case((Coupon.status == "used", "issued"), else_=Coupon.status))
            .execution_options(synchronize_session=False))
    else:
        db.session.execute(
            update(Coupon).where(Coupon.id == coupon.id, Coupon.status == "used",
                                 Coupon.used_on == reference)
            .values(status="issued", used_on="", used_at=None)
            .execution_options(synchronize_session=False))
    db.session.flush()
    db.session.refresh(held)
    db.session.refresh(coupon)
    return held.amount


def void(coupon: Coupon) -> bool:
    """Cancel a coupon nobody has used (a gift card with its whole value); False if used."""
    done = db.session.execute(
        update(Coupon).where(Coupon.id == coupon.id, Coupon.status == "issued",
                             (Coupon.kind != "gift_card") | (Coupon.balance == Coupon.amount))
        .values(status="void").execution_options(synchronize_session=False)).rowcount
    db.session.refresh(coupon)
    return done == 1


# --- for lists -----------------------------------------------------------------------------

def state(coupon: Coupon, day: date | None = None) -> str:
    """issued, partly_used, used, void or expired (what a list shows)."""
    day = day or today()
    if coupon.status in ("used", "void"):
        return coupon.status
    if coupon.valid_until is not None and coupon.valid_until < day:
        return "expired"
    if coupon.kind == "gift_card" and coupon.balance < coupon.amount:
        return "partly_used"
    return "issued"


def percent_text(bp: int) -> str:
    """Basis points as a percent in the reader's digits: 1000 → "10", 1250 → "12.5"."""
    from decimal import Decimal

    from core.i18n import format_number

    value = Decimal(bp or 0) / 100
    return format_number(int(value) if value == int(value) else value.normalize())


def state_label(value: str) -> str:
    return {"issued": _("Ready to use"), "partly_used": _("Partly used"), "used": _("Used"),
            "void": _("Cancelled"), "expired": _("Expired")}.get(value, value)
