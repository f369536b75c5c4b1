"""Cross-sell and up-sell pages: the rules report with its thresholds and recompute button,
and the "Suggested products" box of the quote editor."""

from datetime import datetime
from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import ValidationError

from core import jobs
from core.auth.permissions import has_permission, require_permission
from core.extensions import db
from core.i18n import digits, format_number, parse_number
from core.jobs.progress import JobProgress, JobRecord
from modules.sales import rules
from modules.sales.models.catalog import Product
from modules.sales.views import bp

SUGGEST_PREFIX = "suggest-"


# --- the quote editor ------------------------------------------------------------------------

def take_suggestion(form, action: str) -> str:
    """``suggest-<product id>`` (an "Add to the quote" button): put the product on a line.

    The product goes on the first empty line, or on a new one, with quantity 1; the form then
    comes back recalculated, like after "Recalculate". Other actions pass through.
    """
    if not action.startswith(SUGGEST_PREFIX):
        return action
    product_id = action.removeprefix(SUGGEST_PREFIX)
    product = db.session.get(Product, int(product_id)) if product_id.isdigit() else None
    if product is None or not product.active:
        return "recalc"
    entry = next((e for e in form.lines if e.form.is_blank() and not e.form.remove.data), None)
    if entry is None:
        entry = form.lines.append_entry()
    entry.form.product_id.data = product.id
    entry.form.quantity.data = digits("1")
    return "recalc"


@bp.app_template_global("sales_quote_suggestions")
def quote_suggestions(form, customer=None) -> rules.Suggestions:
    """Cross-sell and up-sell for the products on the quote being edited."""
    products = [line.product_id.data for _i, line in form.kept_lines()]
    return rules.suggestions_for(products, customer=customer)


# --- the report ------------------------------------------------------------------------------

def _decimal(text) -> float:
    try:
        return float(parse_number(text, allow_decimal=True))
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValidationError(_("Enter a number such as 1.5.")) from exc


class ThresholdsForm(FlaskForm):
    """Thresholds; support and confidence in percent."""

    min_support = StringField(_l("Minimum support (percent of invoices)"),
                              render_kw={"dir": "ltr", "inputmode": "decimal"})
    min_confidence = StringField(_l("Minimum confidence (percent)"),
                                 render_kw={"dir": "ltr", "inputmode": "decimal"})
    min_lift = StringField(_l("Minimum lift"), render_kw={"dir": "ltr", "inputmode": "decimal"})
    min_count = StringField(_l("Minimum invoices with both products"),
                            render_kw={"dir": "ltr", "inputmode": "numeric"})

    def validate_min_support(self, field):
        if not 0 <= _decimal(field.data) <= 100:
            raise ValidationError(_("Enter a percent between 0 and 100."))

    def validate_min_confidence(self, field):
        if not 0 <= _decimal(field.data) <= 100:
            raise ValidationError(_("Enter a percent between 0 and 100."))

    def validate_min_lift(self, field):
        if _decimal(field.data) < 0:
            raise ValidationError(_("Enter zero or more."))

    def validate_min_count(self, field):
        value = _decimal(field.data)
        if value < 1 or value != int(value):
            raise ValidationError(_("Enter a whole number, 1 or more."))

    def fill(self, limits: dict) -> None:
        self.min_support.data = plain(limits["min_support"] * 100)
        self.min_confidence.data = plain(limits["min_confidence"] * 100)
        self.min_lift.data = plain(limits["min_lift"])
        self.min_count.data = digits(str(int(limits["min_count"])))

    def values(self) -> dict:
        return {"min_support": _decimal(self.min_support.data) / 100,
                "min_confidence": _decimal(self.min_confidence.data) / 100,
                "min_lift": _decimal(self.min_lift.data),
                "min_count": int(_decimal(self.min_count.data))}


class RecomputeForm(FlaskForm):
    """No fields: CSRF only."""


def _trimmed(value: float, places: int) -> str:
    """``value`` rounded to ``places`` decimals, trailing zeros dropped, in the page's digits."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".") or "0"
    return format_number(Decimal(text))


def plain(value: float) -> str:
    """A number for an input (0.1 → ۰٫۱)."""
    return _trimmed(value, 4)


@bp.app_template_filter("rule_percent")
def rule_percent(value: float) -> str:
    """A share as a percent with up to two decimals, in the page's digits (0.4 → ۴۰٪)."""
    return _("%(n)s%%", n=_trimmed(value * 100, 2))


@bp.app_template_filter("rule_ratio")
def rule_ratio(value: float) -> str:
    """A ratio (lift) with up to two decimals, in the page's digits (1.6667 → ۱٫۶۷)."""
    return _trimmed(value, 2)


@bp.route("/rules", methods=["GET", "POST"])
@require_permission("sales.view")
def rules_report():
    """The strongest pairs, the thresholds (managers change them) and the last run."""
    form = ThresholdsForm()
    if request.method == "POST":
        if not has_permission("sales.manage"):
            abort(403)
        if form.validate_on_submit():
            rules.set_thresholds(**form.values())
            db.session.commit()
            flash(_("Thresholds saved; they apply from the next computation."), "success")
            return redirect(url_for("sales.rules_report"))
    else:
        form.fill(rules.thresholds())
    job = None
    if request.args.get("job", "").isdigit():
        job = db.session.get(JobRecord, int(request.args["job"]))
        if job is None or job.kind != rules.KIND:
            job = None
    summary = rules.last_summary()
    computed_at = datetime.fromisoformat(summary["computed_at"]) if summary else None
    return render_template("sales/rules.html", pairs=rules.strongest(), form=form,
                           recompute_form=RecomputeForm(), summary=summary,
                           computed_at=computed_at,
                           job=job, can_manage=has_permission("sales.manage"))


@bp.route("/rules/recompute", methods=["POST"])
@require_permission("sales.manage")
def rules_recompute():
    """Mine the rules again now; the report shows the progress."""
    if not RecomputeForm().validate_on_submit():
        abort(400)
    job_id = JobProgress.create(rules.KIND, total=rules.STEPS, created_by=current_user.id).id
    jobs.enqueue(rules.mine, job_id=job_id)  # runs (or is queued) once this commits
    db.session.commit()
    flash(_("Finding the product pairs again; this page shows the progress."), "info")
    return redirect(url_for("sales.rules_report", job=job_id))
