"""Performance pages: each salesperson's and team's month against target, and setting targets.

Who is listed follows the people scope of ``modules.sales.performance``: an agent sees only
themselves, a manager their team, an administrator everyone.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from core.auth.permissions import require_permission
from core.extensions import db
from core.i18n import current_locale, to_latin_digits
from core.money import UNIT_WORDS, display_unit, format_money
from modules.sales import performance as services
from modules.sales.board import parse_month
from modules.sales.views import bp

MONTHS_BACK = 24  # months offered in the selector before the current one
MONTHS_AHEAD = 6  # and after it (targets are set ahead)


def _period() -> services.Period:
    """The period in ``?month=1404-08`` (any digits) and optional ``?to=1404-10``."""
    first = parse_month(request.args.get("month"))
    if first is None:
        return services.Period.current()
    last = parse_month(request.args.get("to")) or first
    return services.Period(first, last)


def _month_choices(around: services.Period) -> list[tuple[int, int]]:
    """Months for the selector: around this month, and the chosen ones if farther away."""
    now = services.Period.current()
    months = {now.shifted(n).first for n in range(-MONTHS_BACK, MONTHS_AHEAD + 1)}
    months |= {around.first, around.last}
    return sorted(months, reverse=True)


def _month_arg(month: tuple[int, int]) -> str:
    return f"{month[0]}-{month[1]:02d}"


@bp.route("/performance")
@require_permission("sales.view")
def performance():
    """Target, achieved, won deals, win rate, deal size and cycle per person and team."""
    period = _period()
    report = services.performance(period)
    step = period.length
    return render_template(
        "sales/performance.html", report=report, period=period,
        months=_month_choices(period), month_arg=_month_arg,
        prev_period=period.shifted(-step), next_period=period.shifted(step))


@bp.route("/targets", methods=["GET", "POST"])
@require_permission("sales.manage")
def targets():
    """Set each salesperson's target for one Jalali month (rials or tomans, any digits)."""
    period = _period()
    year, month = period.first
    people = services.salespeople()
    form = FlaskForm()
    unit = display_unit()
    errors: dict[str, str] = {}
    typed: dict[int, str] = {}
    if form.validate_on_submit():
        for key, value in request.form.items():
            ident = to_latin_digits(key.removeprefix("target-"))
            if key.startswith("target-") and ident.isdigit():
                typed[int(ident)] = value
        try:
            changed = services.save_targets(year, month, typed, unit)
        except services.TargetError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("Targets saved (%(count)s changed).", count=changed), "success")
            return redirect(url_for("sales.targets", month=_month_arg(period.first)))
    saved = services.targets_for(year, month, [u.id for u in people])
    values = {u.id: typed[u.id] if u.id in typed else
              format_money(saved[u.id], unit=unit, with_unit=False) if u.id in saved else ""
              for u in people}
    shown = {f"target-{u.id}" for u in people}
    other_errors = [message for key, message in errors.items() if key not in shown]
    return render_template(
        "sales/targets.html", form=form, people=people, values=values, errors=errors,
        other_errors=other_errors,
        period=period, months=_month_choices(period), month_arg=_month_arg,
        prev_period=period.shifted(-1), next_period=period.shifted(1),
        unit_word=UNIT_WORDS[current_locale()][unit])


