"""Club reports page: members, activity, earn and burn by Jalali month, outstanding points and
their liability, tier distribution and rewards redeemed; every table also as CSV.

``?months=12`` picks how many Jalali months, ending with this one (3, 6, 12 or 24).
"""

import csv
import io

from flask import Response, render_template, request
from flask_babel import gettext as _

from core.auth.permissions import require_permission
from core.i18n import MONTHS, current_locale, jmonth, to_latin_digits
from modules.loyalty import reports
from modules.loyalty.views import bp

TABLES = ("months", "tiers", "rewards")


def _months_arg() -> int:
    value = to_latin_digits(request.args.get("months", "")).strip()
    return int(value) if value.isdigit() and int(value) in reports.PERIODS else 12


def _chart(months: list[reports.Month]) -> dict:
    return {"type": "bar", "data": {"labels": [jmonth(m.month) for m in months], "datasets": [
        {"label": _("Earned"), "data": [m.earned for m in months]},
        {"label": _("Redeemed"), "data": [m.redeemed for m in months]},
        {"label": _("Expired"), "data": [m.expired for m in months]},
    ]}}


def _tier_name(tier) -> str:
    if tier is None:
        return _("No tier")
    return tier.name_fa if current_locale() == "fa" else tier.name_en


@bp.route("/reports", endpoint="reports")
@require_permission("loyalty.view")
def reports_page():
    """The club in figures."""
    count = _months_arg()
    months = reports.last_months(count)
    summary = reports.summary(months)
    return render_template(
        "loyalty/reports.html", summary=summary, count=count, periods=reports.PERIODS,
        chart=_chart(summary.months), tiers=reports.tier_distribution(),
        rewards=reports.rewards_redeemed(months), tier_name=_tier_name, tables=TABLES,
        first=months[0], last=months[-1])


def csv_rows(table: str, months: list[tuple[int, int]]) -> list[list]:
    """One report table, header first, labels in the user's language, Latin digits."""
    if table == "months":
        rows = [[_("Month"), _("Earned"), _("Redeemed"), _("Expired"), _("Taken back"),
                 _("Active members")]]
        for m in reports.month_figures(months):
            label = f"{MONTHS[current_locale()][m.month[1] - 1]} {m.month[0]}"
            rows.append([label, m.earned, m.redeemed, m.expired, m.reversed, m.active])
        return rows
    if table == "tiers":
        return [[_("Tier"), _("Members"), _("Points")],
                *[[_tier_name(t), n, p] for t, n, p in reports.tier_distribution()]]
    lang = current_locale()
    return [[_("Reward"), _("Redemptions"), _("Points")],
            *[[r.name_fa if lang == "fa" else r.name_en, n, p]
              for r, n, p in reports.rewards_redeemed(months)]]


@bp.route("/reports/<any(months, tiers, rewards):table>.csv")
@require_permission("loyalty.view")
def reports_csv(table: str):
    """One table of the report page as CSV (UTF-8 with BOM so spreadsheets read Persian)."""
    months = reports.last_months(_months_arg())
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(table, months))
    name = f"club-{table}-{months[0][0]}-{months[0][1]:02d}-{months[-1][0]}-{months[-1][1]:02d}.csv"
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
