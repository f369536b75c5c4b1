"""Club pages: the tiers (thresholds, benefits), their member counts and the change history."""

import re
from decimal import Decimal, InvalidOperation

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from core.auth.permissions import has_permission, require_permission
from core.extensions import db
from core.fields import DigitsIntegerField, MoneyField, _TextField
from core.i18n import lazy_digits, to_latin_digits
from modules.loyalty import ledger
from modules.loyalty.earning import decimal_text, tier_name
from modules.loyalty.models.members import Member
from modules.loyalty.models.tiers import Tier, TierChange
from modules.loyalty.views import bp
from modules.loyalty.views.rules import MultiplierField, show_multiplier

COLORS = [("secondary", _l("Grey")), ("warning", _l("Gold")), ("info", _l("Silver blue")),
          ("danger", _l("Bronze red")), ("success", _l("Green")), ("primary", _l("Blue")),
          ("dark", _l("Black"))]
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
HISTORY = 50


class PercentField(_TextField):
    """A percentage typed as a decimal ("7.5"); ``data`` is basis points (750)."""

    input_attrs = {"dir": "ltr", "inputmode": "decimal", "placeholder": lazy_digits("5")}

    def parse(self, text: str) -> int:
        clean = to_latin_digits(text).replace("%", "").replace("٪", "").replace("٫", ".")
        try:
            value = Decimal(clean.strip())
        except InvalidOperation:
            raise ValueError(_("Write the discount as a percentage, e.g. 5.")) from None
        if value < 0 or value > 100:
            raise ValueError(_("A discount is between 0 and 100 percent."))
        return int(value * 100)

    def show(self, value) -> str:
        return show_percent(value)


def show_percent(bp: int) -> str:
    return decimal_text(bp, 100)


class TierForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=30)],
                       description=_l("Latin letters and digits, unique; SLA policies name "
                                      "the tier by it."))
    name_fa = StringField(_l("Name in Persian"), validators=[DataRequired(), Length(max=80)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=80)])
    rank = DigitsIntegerField(_l("Rank"), validators=[DataRequired()],
                              description=_l("Higher is better; each tier has its own rank."))
    min_points = DigitsIntegerField(_l("Points earned in the window"), validators=[Optional()])
    min_spend = MoneyField(_l("Or spent in the window"), validators=[Optional()])
    multiplier = MultiplierField(_l("Earning multiplier"), validators=[Optional()],
                                 description=_l("1 for none; 1.5 earns half as much again."))
    discount = PercentField(_l("Discount on quotes (%)"), validators=[Optional()])
    sla_class = StringField(_l("Service SLA class"), validators=[Length(max=30)],
                            description=_l("What the service module's SLA policies match; "
                                           "the code when empty."))
    color = SelectField(_l("Colour"), choices=COLORS)
    active = BooleanField(_l("Active"), default=True)


def validate_tier(form: TierForm, tier: Tier | None) -> bool:
    ok = True

    def error(field, message):
        nonlocal ok
        field.errors = [*field.errors, message]
        ok = False

    code = (form.code.data or "").strip().lower()
    if not CODE.match(code):
        error(form.code, _("Use Latin letters, digits, - or _ only."))
    else:
        other = db.session.execute(select(Tier.id).where(Tier.code == code)).scalar()
        if other is not None and (tier is None or other != tier.id):
            error(form.code, _("Another tier has this code."))
    rank = form.rank.data
    if rank is not None:
        other = db.session.execute(select(Tier).where(Tier.rank == rank)).scalars().first()
        if other is not None and (tier is None or other.id != tier.id):
            error(form.rank, _("Tier %(name)s already has this rank.", name=tier_name(other)))
    for field in (form.min_points, form.min_spend):
        if field.data is not None and field.data < 0:
            error(field, _("A threshold is never negative."))
    return ok


@bp.route("/tiers")
@require_permission("loyalty.view")
def tiers():
    """The tiers with their member counts, and the latest tier changes."""
    found = db.session.execute(select(Tier).order_by(Tier.rank.desc(), Tier.id)).scalars().all()
    counts = dict(db.session.execute(
        select(Member.tier_id, func.count(Member.id)).where(Member.status == "active")
        .group_by(Member.tier_id)).all())
    changes = db.session.execute(select(TierChange).order_by(TierChange.created_at.desc(),
                                                             TierChange.id.desc())
                                 .limit(HISTORY)).scalars().all()
    settings = ledger.club_settings()
    return render_template("loyalty/tiers.html", tiers=found, counts=counts, changes=changes,
                           tier_name=tier_name, multiplier=show_multiplier, percent=show_percent,
                           window_months=settings.tier_window_months,
                           notice_days=settings.downgrade_notice_days,
                           can_manage=has_permission("loyalty.manage"))


@bp.route("/tiers/new", methods=["GET", "POST"], endpoint="tier_new")
@bp.route("/tiers/<int:tier_id>", methods=["GET", "POST"])
@require_permission("loyalty.manage")
def tier(tier_id: int | None = None):
    """Add or change a tier; members move at the next review or purchase."""
    found = db.get_or_404(Tier, tier_id) if tier_id else None
    form = TierForm(obj=found)
    if found is not None and request.method == "GET":
        form.multiplier.data, form.discount.data = found.multiplier_bp, found.discount_bp
    if form.validate_on_submit() and validate_tier(form, found):
        target = found or Tier()
        target.code = form.code.data.strip().lower()
        target.name_fa, target.name_en = form.name_fa.data.strip(), form.name_en.data.strip()
        target.rank = form.rank.data
        target.min_points, target.min_spend = form.min_points.data, form.min_spend.data
        target.multiplier_bp = form.multiplier.data or 10000
        target.discount_bp = form.discount.data or 0
        target.sla_class = (form.sla_class.data or "").strip()
        target.color = form.color.data
        target.active = bool(form.active.data)
        db.session.add(target)
        db.session.commit()
        flash(_("Tier %(name)s saved; members move to the tiers they qualify for at their next "
                "purchase or the daily review.", name=tier_name(target)), "success")
        return redirect(url_for("loyalty.tiers"))
    if request.method == "POST":
        flash(_("The tier was not saved; correct the fields marked below."), "danger")
    return render_template("loyalty/tiers_form.html", form=form, tier=found)
