"""Marketing pages: attribution (campaigns compared: cost, reach, leads, revenue, ROI)."""

import csv
import io

from flask import Response, render_template, request

from core.auth.permissions import require_permission
from core.database import utcnow
from core.i18n import jalali_month_of, jalali_month_utc_range, jmonth
from core.modules import is_active
from modules.marketing.attribution import attribution, campaigns_in, sort_rows
from modules.marketing.views import bp

MONTHS_SHOWN = 24


def _month(value: str) -> tuple[int, int] | None:
    """``1405-01`` (any digits) as (year, month), or None."""
    from core.i18n import to_latin_digits

    try:
        year, month = (int(p) for p in to_latin_digits(value or "").split("-"))
    except ValueError:
        return None
    return (year, month) if 1300 < year < 1600 and 1 <= month <= 12 else None


def month_choices() -> list[tuple[str, str]]:
    """The last Jalali months, newest first, as (value, label)."""
    year, month = jalali_month_of(utcnow())
    choices = []
    for _i in range(MONTHS_SHOWN):
        choices.append((f"{year}-{month:02d}", jmonth((year, month))))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return choices


def _rows():
    """The filtered, sorted rows and the filter values."""
    start, end = _month(request.args.get("start", "")), _month(request.args.get("end", ""))
    if start and end and end < start:
        start, end = end, start
    rows = attribution(campaigns_in(jalali_month_utc_range(*start)[0] if start else None,
                                    jalali_month_utc_range(*end)[1] if end else None))
    sort, rows = sort_rows(rows, request.args.get("sort", ""))
    return rows, sort, start, end


@bp.route("/attribution", endpoint="attribution")
@require_permission("marketing.view")
def attribution_page():
    """Campaigns side by side: what each cost and what it brought."""
    rows, sort, start, end = _rows()
    totals = {k: sum(getattr(r, k) for r in rows)
              for k in ("cost", "reach", "opens", "clicks", "leads", "deals", "revenue")}
    return render_template("marketing/attribution.html", rows=rows, sort=sort, totals=totals,
                           months=month_choices(), with_sales=is_active("sales"),
                           start=f"{start[0]}-{start[1]:02d}" if start else "",
                           end=f"{end[0]}-{end[1]:02d}" if end else "")



@bp.route("/attribution.csv")
@require_permission("marketing.view")
def attribution_csv():
    """The same table as CSV (amounts in rials, ROI as a ratio)."""
    from flask_babel import gettext as _

    rows, _sort, _start, _end = _rows()
    buffer = io.StringIO()
    out = csv.writer(buffer)
    out.writerow([_("Campaign"), _("Channel"), _("Cost (rials)"), _("Reach"), _("Opens"),
                  _("Clicks"), _("Leads"), _("Deals won"), _("Revenue (rials)"), _("ROI")])
    for r in rows:
        out.writerow([r.campaign.name, r.campaign.channel, r.cost, r.reach, r.opens, r.clicks,
                      r.leads, r.deals, r.revenue, "" if r.roi is None else f"{r.roi:.2f}"])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=attribution.csv"})
