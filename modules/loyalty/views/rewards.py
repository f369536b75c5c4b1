"""Customer-club pages: the rewards catalogue, redemptions, coupons, redeeming for a member."""

from datetime import timedelta
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers.models import Customer
from core.extensions import db
from core.fields import DigitsIntegerField, MoneyField
from core.i18n import format_number, parse_jalali_date, parse_number, utc_range
from core.pagination import request_page
from modules.loyalty import coupons, ledger
from modules.loyalty import rewards as service
from modules.loyalty.models.members import Member
from modules.loyalty.models.rewards import (
    REDEMPTION_CHANNELS,
    REWARD_KINDS,
    Coupon,
    Redemption,
    Reward,
)
from modules.loyalty.models.tiers import Tier
from modules.loyalty.views import bp

COUPON_STATES = ("issued", "partly_used", "used", "expired", "void")


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "", "0", "None") else None
    except (TypeError, ValueError):
        return None


class RewardForm(FlaskForm):
    kind = HiddenField()
    name_fa = StringField(_l("Name in Persian"), validators=[Length(max=120)])
    name_en = StringField(_l("Name in English"), validators=[Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)],
                                render_kw={"rows": 2})
    cost_points = DigitsIntegerField(_l("Costs (points)"))
    min_tier_id = SelectField(_l("For members of tier"), coerce=_int, validate_choice=False)
    stock = DigitsIntegerField(_l("Stock"), validators=[Optional()],
                               description=_l("Leave empty for no limit."))
    percent = StringField(_l("Percent off"), validators=[Optional(), Length(max=10)],
                          render_kw={"dir": "ltr", "inputmode": "decimal"},
                          description=_l("Either a percent or an amount."))
    amount = MoneyField(_l("Amount off"), validators=[Optional()])
    value = MoneyField(_l("Value of the card"), validators=[Optional()])
    max_discount = MoneyField(_l("Largest discount"), validators=[Optional()],
                              description=_l("For a percent coupon; empty for no cap."))
    min_purchase = MoneyField(_l("Minimum purchase"), validators=[Optional()])
    valid_days = DigitsIntegerField(_l("Valid for (days)"), validators=[Optional()],
                                    description=_l("From the day it is redeemed; 0 never "
                                                   "expires."))
    product_id = SelectField(_l("Product"), coerce=_int, validate_choice=False)
    active = BooleanField(_l("On offer"), default=True)

    def percent_bp(self) -> int:
        text = (self.percent.data or "").strip()
        if not text:
            return 0
        try:
            value = Decimal(parse_number(text, allow_decimal=True)) * 100
        except ValueError as exc:
            raise service.RewardError(str(exc), "percent") from exc
        if value != int(value) or not 0 < value <= 10_000:
            raise service.RewardError(_("A percent is between 0.01 and 100."), "percent")
        return int(value)


class StockForm(FlaskForm):
    units = DigitsIntegerField(_l("Units to add (negative to take away)"))


def _tier_choices() -> list[tuple]:
    tiers = db.session.execute(select(Tier).order_by(Tier.rank)).scalars()
    return [(0, _("Every member"))] + [(t.id, service.tier_name(t)) for t in tiers]


def _product_choices() -> list[tuple]:
    from modules.sales import services as sales

    return [(0, "—")] + [(p.id, f"{p.name} ({p.code})")
                         for p in sales.products_for_choice(kind=None)]


def _products_by_id(ids) -> dict:
    from modules.sales import services as sales

    return sales.products_by_ids(ids)


# --- the catalogue -------------------------------------------------------------------------

@bp.route("/rewards", endpoint="rewards")
@require_permission("loyalty.view")
def rewards_index():
    """The rewards catalogue: what members can buy with points, stock and how often taken."""
    kind = request.args.get("kind", "")
    stmt = select(Reward)
    if kind in REWARD_KINDS:
        stmt = stmt.where(Reward.kind == kind)
    shown = request.args.get("shown", "")
    if shown == "on":
        stmt = stmt.where(Reward.active.is_(True))
    elif shown == "off":
        stmt = stmt.where(Reward.active.is_(False))
    page = request_page(stmt, [Reward.active.desc(), Reward.cost_points, Reward.id])
    ids = [reward.id for reward in page]
    taken = dict(db.session.execute(
        select(Redemption.reward_id, func.count()).where(
            Redemption.reward_id.in_(ids), Redemption.status == "done")
        .group_by(Redemption.reward_id)).all()) if ids else {}
    products = _products_by_id({r.product_id for r in page if r.product_id})
    return render_template("loyalty/rewards.html", page=page, kind=kind, shown=shown,
                           taken=taken, products=products, kinds=REWARD_KINDS,
                           service=service, stock_form=StockForm(),
                           filtered=bool(kind or shown))


def _form(reward: Reward | None, kind: str) -> RewardForm:
    form = RewardForm(obj=reward if request.method == "GET" else None)
    form.kind.data = kind
    form.min_tier_id.choices = _tier_choices()
    form.product_id.choices = _product_choices() if kind == "gift_product" else [(0, "—")]
    if request.method == "GET" and reward is not None:
        form.percent.data = service.percent_text(reward.percent_bp) if reward.percent_bp else ""
        if kind == "gift_card":
            form.value.data, form.amount.data = reward.amount, None
        form.max_discount.data = reward.max_discount
    elif request.method == "GET":
        form.valid_days.data = 90
        form.active.data = True
    return form


def _save(form: RewardForm, reward: Reward | None, kind: str) -> Reward | None:
    if not form.validate_on_submit():
        return None
    try:
        amount = form.value.data if kind == "gift_card" else form.amount.data
        saved = service.save_reward(
            reward, kind=kind, name_fa=form.name_fa.data or "", name_en=form.name_en.data or "",
            description=form.description.data or "", cost_points=form.cost_points.data,
            active=form.active.data, stock=form.stock.data, min_tier_id=form.min_tier_id.data,
            percent_bp=form.percent_bp() if kind == "coupon" else 0, amount=amount or 0,
            max_discount=form.max_discount.data if kind == "coupon" else None,
            min_purchase=form.min_purchase.data or 0,
            valid_days=form.valid_days.data if form.valid_days.data is not None else 0,
            product_id=form.product_id.data)
    except service.RewardError as exc:
        db.session.rollback()
        renamed = {"percent_bp": "percent", "kind": None}
        if kind == "gift_card":
            renamed["amount"] = "value"
        name = renamed.get(exc.field, exc.field) if exc.field else None
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, str(exc)]
        else:
            form.form_errors.append(str(exc))
        return None
    db.session.commit()
    return saved


@bp.route("/rewards/new", methods=["GET", "POST"])
@require_permission("loyalty.manage")
def reward_new():
    """Add a reward: first its kind, then the fields that kind has."""
    kind = request.values.get("kind", "")
    if kind not in REWARD_KINDS:
        return render_template("loyalty/rewards_kind.html", kinds=REWARD_KINDS, service=service)
    form = _form(None, kind)
    saved = _save(form, None, kind) if request.method == "POST" else None
    if saved is not None:
        flash(_("Reward %(name)s added.", name=service.reward_name(saved)), "success")
        return redirect(url_for("loyalty.rewards"))
    return render_template("loyalty/rewards_form.html", form=form, reward=None, kind=kind,
                           service=service)


@bp.route("/rewards/<int:reward_id>/edit", methods=["GET", "POST"])
@require_permission("loyalty.manage")
def reward_edit(reward_id: int):
    """Change a reward (its kind stays)."""
    reward = db.session.get(Reward, reward_id) or abort(404)
    form = _form(reward, reward.kind)
    saved = _save(form, reward, reward.kind) if request.method == "POST" else None
    if saved is not None:
        flash(_("Reward %(name)s saved.", name=service.reward_name(saved)), "success")
        return redirect(url_for("loyalty.rewards"))
    return render_template("loyalty/rewards_form.html", form=form, reward=reward,
                           kind=reward.kind, service=service)


@bp.route("/rewards/<int:reward_id>/switch", methods=["POST"])
@require_permission("loyalty.manage")
def reward_switch(reward_id: int):
    """Take a reward off offer, or put it back."""
    reward = db.session.get(Reward, reward_id) or abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    service.set_active(reward, not reward.active)
    db.session.commit()
    flash(_("%(name)s is on offer again.", name=service.reward_name(reward)) if reward.active
          else _("%(name)s is off offer; members cannot redeem it.",
                 name=service.reward_name(reward)), "success")
    return redirect(request.referrer or url_for("loyalty.rewards"))


@bp.route("/rewards/<int:reward_id>/stock", methods=["POST"])
@require_permission("loyalty.manage")
def reward_stock(reward_id: int):
    """Add units of stock (delivered gifts), or take some away."""
    reward = db.session.get(Reward, reward_id) or abort(404)
    form = StockForm()
    if not form.validate_on_submit():
        flash(" ".join(form.units.errors) or _("Enter how many units to add or take away."),
              "danger")
        return redirect(url_for("loyalty.rewards"))
    try:
        service.add_stock(reward, form.units.data)
    except service.RewardError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("loyalty.rewards"))
    db.session.commit()
    flash(_("%(name)s: %(stock)s in stock.", name=service.reward_name(reward),
            stock=format_number(reward.stock)), "success")
    return redirect(url_for("loyalty.rewards"))


# --- redeeming for a member ----------------------------------------------------------------

def _member(member_id: int) -> Member:
    return get_scoped_or_404(Member, member_id, "loyalty")


@bp.route("/members/<int:member_id>/redeem", methods=["GET", "POST"])
@require_permission("loyalty.work")
def redeem(member_id: int):
    """Spend a member's points on a reward for them (at the counter or on the phone)."""
    member = _member(member_id)
    chosen = _int(request.values.get("reward_id"))
    if request.method == "POST":
        reward = db.session.get(Reward, chosen) if chosen else None
        if not FlaskForm().validate_on_submit() or reward is None:
            flash(_("Choose the reward again; the form expired."), "danger")
            return redirect(url_for("loyalty.redeem", member_id=member.id))
        try:
            redemption = service.redeem_reward(member, reward, channel="staff", by=current_user)
        except (service.RewardError, ledger.LedgerError) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("loyalty.redeem", member_id=member.id, reward_id=reward.id))
        db.session.commit()
        if redemption.coupon is not None:
            flash(_("Redeemed %(reward)s for %(points)s points. The code is %(code)s.",
                    reward=service.reward_name(reward), points=format_number(redemption.points),
                    code=redemption.coupon.code), "success")
        else:
            flash(_("Redeemed %(reward)s for %(points)s points; hand the gift to the member.",
                    reward=service.reward_name(reward),
                    points=format_number(redemption.points)), "success")
        return redirect(url_for("loyalty.redemptions", member=member.id))
    offered = service.available_rewards(member) if member.status == "active" else []
    return render_template("loyalty/rewards_redeem.html", member=member, rewards=offered,
                           chosen=chosen, service=service)


# --- redemptions ---------------------------------------------------------------------------

def _period() -> tuple[str, str, object, object]:
    """``?from=1404/01/01&to=1404/01/31`` (Jalali, any digits) as UTC bounds."""
    start_text = (request.args.get("from") or "").strip()
    end_text = (request.args.get("to") or "").strip()
    start = end = None
    try:
        start = parse_jalali_date(start_text) if start_text else None
    except ValueError as exc:
        flash(str(exc), "warning")
    try:
        end = parse_jalali_date(end_text) if end_text else None
    except ValueError as exc:
        flash(str(exc), "warning")
    if start and end and end < start:
        start, end = end, start
    low = utc_range(start, start)[0] if start else None
    high = utc_range(end, end + timedelta(days=1))[1] if end else None
    return start_text, end_text, low, high


@bp.route("/redemptions", endpoint="redemptions")
@require_permission("loyalty.view")
def redemptions_index():
    """Rewards members took: filter by reward, channel, member and Jalali period."""
    stmt = scoped(select(Redemption, Member).join(Member, Member.id == Redemption.member_id)
                  .options(selectinload(Redemption.coupon), selectinload(Redemption.created_by)),
                  Member, "loyalty")
    reward_id = _int(request.args.get("reward"))
    if reward_id:
        stmt = stmt.where(Redemption.reward_id == reward_id)
    channel = request.args.get("channel", "")
    if channel in REDEMPTION_CHANNELS:
        stmt = stmt.where(Redemption.channel == channel)
    member_id = _int(request.args.get("member"))
    if member_id:
        stmt = stmt.where(Redemption.member_id == member_id)
    status = request.args.get("status", "")
    if status in ("done", "cancelled"):
        stmt = stmt.where(Redemption.status == status)
    start_text, end_text, low, high = _period()
    if low is not None:
        stmt = stmt.where(Redemption.created_at >= low)
    if high is not None:
        stmt = stmt.where(Redemption.created_at < high)
    page = request_page(stmt, [Redemption.created_at.desc(), Redemption.id.desc()])
    all_rewards = db.session.execute(select(Reward).order_by(Reward.name_fa)).scalars().all()
    return render_template(
        "loyalty/rewards_redemptions.html", page=page, rewards=all_rewards,
        reward_id=reward_id, channel=channel, channels=REDEMPTION_CHANNELS, status=status,
        member_id=member_id, start=start_text, end=end_text, service=service,
        coupons=coupons, filtered=bool(reward_id or channel or member_id or status
                                        or start_text or end_text))


@bp.route("/redemptions/<int:redemption_id>/cancel", methods=["POST"])
@require_permission("loyalty.work")
def redemption_cancel(redemption_id: int):
    """Cancel a redemption: the points come back, the unused coupon is cancelled."""
    redemption = db.session.get(Redemption, redemption_id) or abort(404)
    _member(redemption.member_id)  # 404 outside the user's scope
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        service.cancel_redemption(redemption, by=current_user)
    except (service.RewardError, ledger.LedgerError) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash(_("Redemption cancelled; %(points)s points are back with the member.",
                points=format_number(redemption.points)), "success")
    return redirect(request.referrer or url_for("loyalty.redemptions"))


# --- coupons -------------------------------------------------------------------------------

@bp.route("/coupons", endpoint="coupons")
@require_permission("loyalty.view")
def coupons_index():
    """Coupon codes and gift cards the club issued, with what became of each."""
    stmt = scoped(select(Coupon, Customer, Member)
                  .join(Customer, Customer.id == Coupon.customer_id)
                  .join(Member, Member.customer_id == Coupon.customer_id), Member, "loyalty")
    code = coupons.canonical_code(request.args.get("q", ""))
    if code:
        stmt = stmt.where(Coupon.code.like(f"%{code}%"))
    state = request.args.get("state", "")
    today = coupons.today()
    not_expired = Coupon.valid_until.is_(None) | (Coupon.valid_until >= today)
    if state in ("used", "void"):
        stmt = stmt.where(Coupon.status == state)
    elif state == "expired":
        stmt = stmt.where(Coupon.status == "issued", Coupon.valid_until < today)
    elif state == "partly_used":
        stmt = stmt.where(Coupon.status == "issued", Coupon.kind == "gift_card",
                          Coupon.balance < Coupon.amount, not_expired)
    elif state == "issued":
        stmt = stmt.where(Coupon.status == "issued", not_expired)
    page = request_page(stmt, [Coupon.created_at.desc(), Coupon.id.desc()])
    return render_template("loyalty/coupons.html", page=page, state=state, states=COUPON_STATES,
                           coupons=coupons, today=today, filtered=bool(code or state))
