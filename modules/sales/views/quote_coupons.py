"""Quote pages: a customer-club coupon applied to a quote, or taken off it."""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404
from core.extensions import db
from core.money import format_money
from modules.sales import quote_coupons
from modules.sales.lines import DocumentError
from modules.sales.models.documents import Quote
from modules.sales.views import bp


def _back(quote: Quote):
    return redirect(url_for("sales.quote_show", quote_id=quote.id))


@bp.route("/quotes/<int:quote_id>/coupon", methods=["POST"])
@require_permission("sales.work")
def quote_coupon_apply(quote_id: int):
    """Take a club coupon (or gift card) code off the quote's total."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    try:
        discount = quote_coupons.apply_coupon(quote, request.form.get("code", ""))
    except DocumentError as exc:
        db.session.rollback()
        flash(" ".join(exc.errors.values()), "danger")
        return _back(quote)
    db.session.commit()
    flash(_("Coupon applied: %(discount)s off the quote.", discount=format_money(discount)),
          "success")
    return _back(quote)


@bp.route("/quotes/<int:quote_id>/coupon/remove", methods=["POST"])
@require_permission("sales.work")
def quote_coupon_remove(quote_id: int):
    """Take the coupon off the quote; the customer can use it again."""
    quote = get_scoped_or_404(Quote, quote_id, "sales")
    if quote.status in ("accepted", "cancelled"):
        flash(_("The coupon stays on an accepted or withdrawn quote."), "danger")
        return _back(quote)
    quote_coupons.remove_coupon(quote)
    db.session.commit()
    flash(_("Coupon removed; the customer can use it again."), "success")
    return _back(quote)
