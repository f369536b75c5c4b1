"""Customer-club coupons on quotes (when the loyalty module is active).

A coupon's discount is added to the current version's document discount on top of the
discount the user typed; the club marks the code used on ``sales.quote:<id>`` atomically, so
one code cannot be taken by two quotes. Removing it, cancelling or rejecting the quote gives
it back. Editing the quote recomputes the coupon on the new amounts. The caller commits.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import update

from core.extensions import db
from core.i18n import digits
from core.modules import is_active
from modules.sales import lines as doc_lines
from modules.sales.lines import DocumentError
from modules.sales.models.documents import Quote, QuoteLine

ACCEPTS_COUPON = ("draft", "awaiting_approval", "approved")


@dataclass(frozen=True)
class AppliedCoupon:
    code: str
    discount: int


def _club():
    """The club's services, or None while the loyalty module is not active."""
    if not is_active("loyalty"):
        return None
    from modules.loyalty import services

    return services


def reference(quote: Quote) -> str:
    return f"sales.quote:{quote.id}"


def club_active() -> bool:
    return _club() is not None


def applied(quote: Quote) -> AppliedCoupon | None:
    """The coupon the quote carries now, or None."""
    club = _club()
    if club is None or quote.id is None:
        return None
    held = club.coupon_on(reference(quote))
    return AppliedCoupon(*held) if held else None


def _lock(quote: Quote) -> None:
    """Coupon changes of one quote happen one at a time (a row lock until commit)."""
    db.session.execute(update(Quote).where(Quote.id == quote.id).values(version=Quote.version)
                       .execution_options(synchronize_session=False))


def _retotal(version, document_discount: int) -> None:
    checked = doc_lines.lines_of(version)
    result = doc_lines.compute(checked, max(document_discount, 0))
    doc_lines.store(version, QuoteLine, checked, result)


def _base(version, manual_discount: int) -> int:
    """What the coupon applies to: the lines after their discounts and the typed discount."""
    return max((version.gross or 0) - (version.line_discounts or 0) - manual_discount, 0)


def apply_coupon(quote: Quote, code: str) -> int:
    """Take ``code`` for the quote and add its discount; returns the discount."""
    club = _club()
    if club is None:
        raise DocumentError({"coupon": _("The customer club is not active, so quotes take "
                                         "no coupons.")})
    if not (code or "").strip():
        raise DocumentError({"coupon": _("Enter the coupon code.")})
    if quote.status not in ACCEPTS_COUPON:
        raise DocumentError({"coupon": _(
            "Quote %(ref)s was sent or answered; change it first (a new version), then apply "
            "the coupon.", ref=digits(quote.reference))})
    _lock(quote)
    db.session.refresh(quote)
    current = applied(quote)
    if current is not None:
        raise DocumentError({"coupon": _("This quote already carries coupon %(code)s; remove "
                                         "it first.", code=current.code)})
    version = quote.current
    try:
        discount = club.use_coupon(code, quote.customer_id, reference(quote),
                                   _base(version, version.document_discount or 0))
    except club.CouponError as exc:
        raise DocumentError({"coupon": str(exc)}) from exc
    _retotal(version, (version.document_discount or 0) + discount)
    db.session.flush()
    return discount


def remove_coupon(quote: Quote) -> int:
    """Give the quote's coupon back and take its discount off; returns the rials."""
    club = _club()
    if club is None:
        return 0
    if quote.status == "accepted":
        raise DocumentError({"coupon": _("The coupon stays on an accepted quote.")})
    _lock(quote)
    current = applied(quote)
    if current is None:
        return 0
    freed = club.release_coupon(current.code, reference(quote))
    version = quote.current
    _retotal(version, (version.document_discount or 0) - freed)
    db.session.flush()
    return freed


def tier_offer(quote: Quote) -> tuple[str, str, int] | None:
    """(tier name, percent, rials) the customer's club tier offers on this quote, or None."""
    club = _club()
    if club is None:
        return None
    name, bp = club.tier_discount(quote.customer_id)
    if not bp:
        return None
    version = quote.current
    base = _base(version, version.document_discount or 0)
    rials = (2 * base * bp + 10_000) // 20_000
    return name, club.percent_text(bp), rials


def manual_discount(quote: Quote) -> int:
    """The current version's document discount without the coupon's part."""
    current = applied(quote)
    return max((quote.current.document_discount or 0) - (current.discount if current else 0),
               0)


def reapply(quote: Quote, code: str | None) -> str | None:
    """After an edit saved the typed discount: take the coupon again on the new amounts.

    Returns a warning when the coupon no longer fits (then the quote goes without it).
    """
    club = _club()
    if club is None or not code:
        return None
    club.release_coupon(code, reference(quote))
    version = quote.current
    try:
        discount = club.use_coupon(code, quote.customer_id, reference(quote),
                                   _base(version, version.document_discount or 0))
    except club.CouponError as exc:
        return _("The coupon was taken off the quote: %(reason)s", reason=str(exc))
    _retotal(version, (version.document_discount or 0) + discount)
    db.session.flush()
    return None
