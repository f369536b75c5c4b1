"""What other modules may ask of the customer club (service, marketing, sales, accounting).

Every function is safe to call while the club is inactive only through the caller's own
``is_active("loyalty")`` check; they read and write the club's tables directly.
"""

from modules.loyalty.ledger import club_settings


def point_value() -> int:
    """Rials one point is worth (what accounting books as the liability of one point)."""
    return club_settings().point_value


def customer_tier(customer_id: int) -> str:
    """The code of the customer's club tier ("" when not a member or no tier)."""
    from modules.loyalty.members import member_of

    member = member_of(customer_id)
    if member is None or member.tier is None or member.status != "active":
        return ""
    return member.tier.sla_class or member.tier.code
