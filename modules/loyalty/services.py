"""What other modules may ask of the customer club (service, marketing, sales, accounting).

Every function is safe to call while the club is inactive only through the caller's own
``is_active("loyalty")`` check; they read and write the club's tables directly.
"""

from modules.loyalty.ledger import club_settings


def point_value() -> int:
    """Rials one point is worth (what accounting books as the liability of one point)."""
    return club_settings().point_value


def reference_label(reference: str | None) -> str:
    """A ledger reference as people read it: ``sales.invoice:12`` → "Invoice ۱۴۰۵-۱",
    ``loyalty.reward:3`` → the reward's name (reader's language and digits)."""
    from modules.loyalty.labels import reference_label as label

    return label(reference)


def customer_tier(customer_id: int) -> str:
    """The code of the customer's club tier ("" when not a member or no tier)."""
    from modules.loyalty.members import member_of

    member = member_of(customer_id)
    if member is None or member.tier is None or member.status != "active":
        return ""
    return member.tier.sla_class or member.tier.code


# --- coupons (sales quotes accept them) ----------------------------------------------------

def _coupons():
    from modules.loyalty import coupons

    return coupons


class CouponError(Exception):
    """A coupon code refused; the message says why, in the reader's language."""


def canonical_coupon_code(code) -> str:
    """A typed code as stored (``pv 7k3m-q9xa`` → ``PV-7K3M-Q9XA``; any digits)."""
    return _coupons().canonical_code(code)


def check_coupon(code, customer_id: int | None, amount: int) -> tuple[int, str]:
    """(discount in rials, message) the code gives the customer on ``amount``; a refused code
    (unknown, another customer's, used, cancelled, expired, under its minimum purchase)
    gives 0 and the reason. A gift card gives ``min(balance, amount)``."""
    return _coupons().check(code, customer_id, int(amount or 0))


def use_coupon(code, customer_id: int | None, reference: str, amount: int = 0) -> int:
    """Take the code for the document ``reference`` (``sales.quote:12``) on ``amount`` and
    return the discount; ``CouponError`` with the reason when refused. Atomic: the same code
    cannot be taken by two documents at once."""
    coupons = _coupons()
    try:
        return coupons.use(code, customer_id, reference, int(amount or 0))
    except coupons.CouponError as exc:
        raise CouponError(str(exc)) from exc


def release_coupon(code, reference: str) -> int:
    """Give back what ``reference`` took from the code (usable again; a gift card gets its
    value back); returns the rials given back (0 if it held nothing)."""
    return _coupons().release(code, reference)


def coupon_on(reference: str) -> tuple[str, int] | None:
    """(code, discount in rials) of the coupon ``reference`` holds now, or None."""
    held = _coupons().active_use(reference)
    return (held.coupon.code, held.amount) if held is not None else None


def tier_discount(customer_id: int) -> tuple[str, int]:
    """(tier name in the reader's language, discount in basis points) the customer's club
    tier offers on quotes; ("", 0) when none."""
    from modules.loyalty.members import member_of
    from modules.loyalty.rewards import tier_name

    member = member_of(customer_id)
    if member is None or member.tier is None or member.status != "active":
        return "", 0
    return tier_name(member.tier), member.tier.discount_bp or 0


def percent_text(bp: int) -> str:
    """Basis points as a percent in the reader's digits: 500 → "5", 1250 → "12.5"."""
    return _coupons().percent_text(bp)
