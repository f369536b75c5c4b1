"""Club pages: the earning rules (list, add, change, switch off) and the rule preview."""

from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from core.auth.permissions import has_permission, require_permission
from core.extensions import db
from core.fields import DigitsIntegerField, JalaliDateField, MoneyField, _TextField
from core.i18n import format_number, to_latin_digits
from modules.loyalty import earning, ledger
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.rules import RULE_KINDS, Rule
from modules.loyalty.models.tiers import Tier
from modules.loyalty.views import bp

KIND_LABELS = {
    "spend": _l("Points per amount spent"),
    "category": _l("Multiplier for a product category"),
    "window": _l("Bonus window (multiplier between two dates)"),
    "first_purchase": _l("First-purchase bonus"),
    "birthday": _l("Birthday bonus"),
    "anniversary": _l("Membership anniversary bonus"),
    "referral": _l("Referral bonus (both sides)"),
}
BONUS_KINDS = ("first_purchase", "birthday", "anniversary", "referral")
MULTIPLIER_KINDS = ("category", "window")


def parse_multiplier(text: str) -> int:
    """"1.5", "۱٫۵" or "×2" → basis points (15000, 20000); ValueError when unreadable."""
    clean = to_latin_digits(text).replace("×", "").replace("x", "").replace("٫", ".")
    clean = clean.replace("/", ".").strip()
    try:
        value = Decimal(clean)
    except InvalidOperation:
        raise ValueError(_("Write the multiplier as a number, e.g. 1.5 or 2.")) from None
    if value < 1 or value > 100:
        raise ValueError(_("A multiplier is between 1 and 100."))
    return int(value * 10000)


def show_multiplier(bp: int) -> str:
    return earning.decimal_text(bp, 10000)


class MultiplierField(_TextField):
    """A multiplier typed as a decimal (×1.5); ``data`` is basis points."""

    input_attrs = {"dir": "ltr", "inputmode": "decimal",
                   "placeholder": LazyString(show_multiplier, 15000)}

    def parse(self, text: str) -> int:
        return parse_multiplier(text)

    def show(self, value) -> str:
        return show_multiplier(value)


def category_choices() -> list[tuple[int, str]]:
    from modules.sales.services import product_categories

    return product_categories()


def tier_choices() -> list[tuple[int, str]]:
    return [(t.id, earning.tier_name(t)) for t in db.session.execute(
        select(Tier).order_by(Tier.rank, Tier.id)).scalars()]


class RuleForm(FlaskForm):
    name = StringField(_l("Rule name"), validators=[DataRequired(), Length(max=120)])
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()))
    points = DigitsIntegerField(_l("Points"), validators=[Optional()], description=_l(
        "Per amount spent, or the bonus of a first-purchase, birthday, anniversary or "
        "referral rule."))
    per_amount = MoneyField(_l("For every"), validators=[Optional()])
    multiplier = MultiplierField(_l("Multiplier"), validators=[Optional()], description=_l(
        "For category and window rules, e.g. 2 doubles the points."))
    category_id = SelectField(_l("Product category"), coerce=int, choices=[])
    tier_id = SelectField(_l("Only for members of tier"), coerce=int, choices=[])
    min_amount = MoneyField(_l("Purchase of at least"), validators=[Optional()])
    starts_on = JalaliDateField(_l("From"), validators=[Optional()])
    ends_on = JalaliDateField(_l("Until"), validators=[Optional()])
    cap_per_day = DigitsIntegerField(_l("At most per member per day"), validators=[Optional()],
                                     description=_l("Points; leave empty for no limit."))
    cap_per_member = DigitsIntegerField(_l("At most per member in all"),
                                        validators=[Optional()],
                                        description=_l("Points; leave empty for no limit."))
    active = BooleanField(_l("Active"), default=True)


class PreviewForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    amount = MoneyField(_l("A purchase of"), validators=[DataRequired()])
    category_id = SelectField(_l("In category"), coerce=int, choices=[])
    tier_id = SelectField(_l("By a member of tier"), coerce=int, choices=[])
    day = JalaliDateField(_l("On"), validators=[Optional()])
    first = BooleanField(_l("It is the member's first purchase"))


class ActionForm(FlaskForm):
    """CSRF only (switch a rule on or off)."""


def _fill_choices(form) -> None:
    form.category_id.choices = [(0, _("Any category"))] + category_choices()
    form.tier_id.choices = [(0, _("Any tier") if isinstance(form, RuleForm)
                             else _("No tier"))] + tier_choices()


def validate_rule(form: RuleForm) -> bool:
    """Kind-specific checks, as field errors; True when the rule can be saved."""
    kind = form.kind.data
    ok = True

    def error(field, message):
        nonlocal ok
        field.errors = [*field.errors, message]
        ok = False

    if kind == "spend":
        if not form.points.data or form.points.data < 1:
            error(form.points, _("Give the points earned for every amount, at least 1."))
        if not form.per_amount.data or form.per_amount.data < 1:
            error(form.per_amount, _("Give the amount that earns these points."))
    elif kind in BONUS_KINDS:
        if not form.points.data or form.points.data < 1:
            error(form.points, _("Give the bonus points, at least 1."))
    if kind in MULTIPLIER_KINDS:
        if not form.multiplier.data or form.multiplier.data <= 10000:
            error(form.multiplier, _("Give a multiplier above 1, e.g. 2."))
    if kind == "category" and not form.category_id.data:
        error(form.category_id, _("Choose the product category the multiplier is for."))
    if kind == "window" and not (form.starts_on.data and form.ends_on.data):
        error(form.ends_on, _("A bonus window needs its first and last day."))
    if form.starts_on.data and form.ends_on.data and form.ends_on.data < form.starts_on.data:
        error(form.ends_on, _("The last day is before the first day."))
    for field in (form.cap_per_day, form.cap_per_member):
        if field.data is not None and field.data < 1:
            error(field, _("A limit is at least 1 point; leave it empty for no limit."))
    if form.points.data is not None and form.points.data < 0:
        error(form.points, _("Points are never negative."))
    if form.min_amount.data is not None and form.min_amount.data < 0:
        error(form.min_amount, _("The least purchase is never negative."))
    return ok


def _apply(form: RuleForm, rule: Rule) -> None:
    rule.name = form.name.data.strip()
    rule.kind = form.kind.data
    rule.points = form.points.data or 0
    rule.per_amount = form.per_amount.data or 0 if rule.kind == "spend" else 0
    rule.multiplier_bp = (form.multiplier.data if rule.kind in MULTIPLIER_KINDS
                          else 10000)
    rule.category_id = form.category_id.data or None
    rule.tier_id = form.tier_id.data or None
    rule.min_amount = form.min_amount.data or 0
    rule.starts_on, rule.ends_on = form.starts_on.data, form.ends_on.data
    rule.cap_per_day = form.cap_per_day.data
    rule.cap_per_member = form.cap_per_member.data
    rule.active = bool(form.active.data)


def describe(rule: Rule, categories: dict, tiers: dict) -> str:
    """What the rule gives, in a sentence."""
    from core.money import format_money

    if rule.kind == "spend":
        text = _("%(points)s points for every %(amount)s", points=format_number(rule.points),
                 amount=format_money(rule.per_amount))
    elif rule.kind in MULTIPLIER_KINDS:
        text = _("×%(times)s the points", times=show_multiplier(rule.multiplier_bp))
    else:
        text = _("%(points)s bonus points", points=format_number(rule.points))
    if rule.category_id:
        text += " — " + _("category %(name)s", name=categories.get(rule.category_id, "?"))
    if rule.tier_id:
        text += " — " + _("tier %(name)s", name=tiers.get(rule.tier_id, "?"))
    if rule.min_amount:
        text += " — " + _("purchases from %(amount)s", amount=format_money(rule.min_amount))
    return text


@bp.route("/rules")
@require_permission("loyalty.view")
def rules():
    """The earning rules, what each gave so far, and the preview form."""
    found = db.session.execute(select(Rule).order_by(Rule.active.desc(), Rule.kind,
                                                     Rule.id)).scalars().all()
    given = dict(db.session.execute(
        select(Entry.rule_id, func.coalesce(func.sum(Entry.points), 0))
        .where(Entry.rule_id.is_not(None), Entry.kind == "earn")
        .group_by(Entry.rule_id)).all())
    categories, tiers = dict(category_choices()), dict(tier_choices())
    form = PreviewForm(request.args if request.args.get("amount") else None)
    _fill_choices(form)
    result = None
    if request.args.get("amount") and form.validate():
        result = _preview(form)
    return render_template("loyalty/rules.html", rules=found, given=given,
                           kinds=KIND_LABELS, categories=categories, tiers=tiers,
                           describe=lambda r: describe(r, categories, tiers), form=form,
                           result=result, action=ActionForm(),
                           can_manage=has_permission("loyalty.manage"),
                           multiplier=show_multiplier)


def _preview(form: PreviewForm) -> dict:
    tier = db.session.get(Tier, form.tier_id.data) if form.tier_id.data else None
    day = form.day.data or ledger.today()
    category = form.category_id.data or None
    amount = form.amount.data
    found = earning.preview(amount, lines=[(category, amount)], day=day, tier=tier,
                            first=bool(form.first.data))
    return {"preview": found, "day": day, "amount": amount,
            "tier_name": earning.tier_name(tier) if tier is not None else None,
            "category": dict(category_choices()).get(category) if category else None}


@bp.route("/rules/new", methods=["GET", "POST"], endpoint="rule_new")
@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@require_permission("loyalty.manage")
def rule(rule_id: int | None = None):
    """Add or change an earning rule."""
    found = db.get_or_404(Rule, rule_id) if rule_id else None
    form = RuleForm(obj=found)
    _fill_choices(form)
    if found is not None and request.method == "GET":
        form.multiplier.data = found.multiplier_bp
        form.category_id.data, form.tier_id.data = found.category_id or 0, found.tier_id or 0
    if request.method == "GET" and found is None and request.args.get("kind") in RULE_KINDS:
        form.kind.data = request.args["kind"]
    if form.validate_on_submit() and validate_rule(form):
        target = found or Rule()
        _apply(form, target)
        db.session.add(target)
        db.session.commit()
        flash(_("Rule “%(name)s” saved; it applies to purchases from now on.",
                name=target.name), "success")
        return redirect(url_for("loyalty.rules"))
    if request.method == "POST":
        flash(_("The rule was not saved; correct the fields marked below."), "danger")
    return render_template("loyalty/rules_form.html", form=form, rule=found, kinds=KIND_LABELS)


@bp.route("/rules/<int:rule_id>/switch", methods=["POST"])
@require_permission("loyalty.manage")
def rule_switch(rule_id: int):
    """Switch a rule off (or on again); its past points stay."""
    found = db.get_or_404(Rule, rule_id)
    if ActionForm().validate_on_submit():
        found.active = not found.active
        db.session.commit()
        flash(_("Rule “%(name)s” switched on.", name=found.name) if found.active else
              _("Rule “%(name)s” switched off; points it gave stay.", name=found.name),
              "success")
    else:
        flash(_("The form expired; try again."), "danger")
    return redirect(url_for("loyalty.rules"))
