"""The customer portal's club pages: my points, my rewards.

A signed-in portal customer sees their balance, pending and soon-to-expire points, their
history, their tier and what the next tier needs, and the rewards they can afford; they can
join the club and redeem a reward (the coupon code is shown at once and kept under "My
coupons"). Everything is the signed-in customer's own: there is no id in these URLs.
"""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.pagination import request_page
from core.portal import add_portal_page, current_customer, portal_required
from modules.loyalty import ledger
from modules.loyalty.members import enrol, member_of
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.rewards import Coupon, Reward

bp = Blueprint("loyalty_portal", __name__, url_prefix="/portal/club",
               template_folder="templates")

KIND_LABELS = {"earn": _l("Earned"), "release": _l("Now available"), "redeem": _l("Redeemed"),
               "expire": _l("Expired"), "adjust": _l("Adjusted"), "reverse": _l("Taken back")}


def _member():
    return member_of(current_customer().id)


def _progress(member):
    from modules.loyalty import tiers

    progress = getattr(tiers, "tier_progress", None)
    return progress(member) if progress is not None and member is not None else None


@bp.route("/")
@portal_required
def points():
    """Balance, pending and expiring points, tier progress, history."""
    member = _member()
    if member is None:
        return render_template("loyalty/portal_join.html")
    history = request_page(
        select(Entry).where(Entry.member_id == member.id, Entry.kind != "release"),
        [Entry.created_at.desc(), Entry.id.desc()], size=20)
    return render_template("loyalty/portal_points.html", member=member, history=history,
                           expiring=ledger.expiring(member.id, 30),
                           progress=_progress(member), kind_labels=KIND_LABELS)


@bp.route("/join", methods=["POST"])
@portal_required
def join():
    """Join the club (the customer asked for it, signed in)."""
    member = enrol(current_customer(), via="portal")
    if member.status != "active":
        from modules.loyalty.members import rejoin

        rejoin(member)
    db.session.commit()
    flash(_("Welcome to the club. Your card number is %(card)s.", card=member.card_number),
          "success")
    return redirect(url_for("loyalty_portal.points"))


def _rewards_for(member) -> list[Reward]:
    from modules.loyalty import rewards

    available = getattr(rewards, "available_rewards", None)
    if available is not None:
        return list(available(member))
    return list(db.session.execute(select(Reward).where(Reward.active.is_(True))
                                   .order_by(Reward.cost_points)).scalars())


@bp.route("/rewards")
@portal_required
def rewards():
    """Rewards the member can redeem, and their coupons."""
    member = _member()
    if member is None:
        return redirect(url_for("loyalty_portal.points"))
    coupons = db.session.execute(select(Coupon).where(
        Coupon.customer_id == member.customer_id).order_by(Coupon.created_at.desc(),
                                                           Coupon.id.desc())).scalars().all()
    return render_template("loyalty/portal_rewards.html", member=member,
                           rewards=_rewards_for(member), coupons=coupons)


@bp.route("/rewards/<int:reward_id>/redeem", methods=["POST"])
@portal_required
def redeem(reward_id: int):
    """Spend points on a reward; the coupon (if any) is shown at once."""
    from modules.loyalty import rewards as reward_service

    member = _member()
    reward = db.session.get(Reward, reward_id)
    if member is None or reward is None or not reward.active:
        abort(404)
    try:
        redemption = reward_service.redeem_reward(member, reward, channel="portal")
        db.session.commit()
    except (ledger.LedgerError, getattr(reward_service, "RewardError", ledger.LedgerError)) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("loyalty_portal.rewards"))
    coupon = redemption.coupon
    if coupon is not None:
        flash(_("Done. Your code is %(code)s; use it on your next purchase.", code=coupon.code),
              "success")
    else:
        flash(_("Done. We will be in touch to deliver your reward."), "success")
    return redirect(url_for("loyalty_portal.rewards"))


def register(app) -> None:
    """Add the club pages to the customer portal."""
    app.register_blueprint(bp)
    add_portal_page(app, "loyalty_portal.points", _l("My club points"), icon="gift",
                    position=30)
    add_portal_page(app, "loyalty_portal.rewards", _l("Club rewards"), icon="stars",
                    position=31)
