"""Service pages: reports for a range of Jalali months, by team and category, and CSV exports.

``?from=1404-07&to=1404-08&team=3&category=2`` (any digits; a full Jalali date counts as its
month). Every table of the page has a CSV twin at ``/service/reports/<table>.csv``.
"""

import csv
import io
import re

from flask import Response, current_app, flash, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.models import Team, User
from core.auth.permissions import require_permission
from core.extensions import db
from core.i18n import (
    MONTHS,
    _lang,
    current_locale,
    jalali_month_of,
    jmonth,
    localize_digits,
    parse_jalali_date,
    to_latin_digits,
)
from modules.service import reports
from modules.service.models.tickets import Category
from modules.service.views import bp

MONTHS_OFFERED = 36  # months in the selectors, back from this one
TABLES = ("ages", "months", "agents", "teams", "categories", "complainers")


def hours_minutes(seconds: float | None, locale: str | None = None) -> str:
    """Business seconds as "hours:minutes" ("۲۶:۰۵" in fa); "" when there is nothing."""
    if seconds is None:
        return ""
    hours, minutes = divmod(round(seconds / 60), 60)
    return localize_digits(f"{hours}:{minutes:02d}", locale)


def percent(fraction: float | None, locale: str | None = None) -> str:
    """0.675 -> "۶۸٪" in fa, "68%" in en; "" when there is nothing to divide."""
    if fraction is None:
        return ""
    whole = localize_digits(round(100 * fraction), locale)
    return f"{whole}٪" if _lang(locale) == "fa" else f"{whole}%"


@bp.app_template_filter("service_hours")
def service_hours(seconds: float | None) -> str:
    """Business seconds as hours:minutes in the current language's digits."""
    return hours_minutes(seconds, current_locale())


@bp.app_template_filter("service_percent")
def service_percent(fraction: float | None) -> str:
    """A share as a whole percent in the current language's digits."""
    return percent(fraction, current_locale())


def parse_month(text: str | None) -> tuple[int, int] | None:
    """"1404-07", "۱۴۰۴/۰۷" or a whole Jalali date as (year, month); None when not a month."""
    raw = to_latin_digits(text or "").strip().replace("/", "-")
    parts = raw.split("-")
    if len(parts) == 3:
        try:
            return jalali_month_of(parse_jalali_date(raw))
        except ValueError:
            return None
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    year, month = int(parts[0]), int(parts[1])
    return (year, month) if 1 <= month <= 12 and 1200 < year < 1600 else None


def _int_arg(name: str) -> int | None:
    value = to_latin_digits(request.args.get(name, "")).strip()
    return int(value) if value.isdigit() else None


def current_filters() -> reports.Filters:
    """The filters in the query string; this Jalali month when none is given."""
    first = parse_month(request.args.get("from"))
    last = parse_month(request.args.get("to"))
    for name, month in (("from", first), ("to", last)):
        if month is None and request.args.get(name, "").strip():
            flash(_("%(value)s is not a Jalali month; write it as year-month, e.g. 1404-07.",
                    value=request.args[name]), "warning")
    if first is None and last is None:
        period = reports.Period.current()
    else:
        period = reports.Period(first or last, last or first)
    return reports.Filters(period, team_id=_int_arg("team"), category_id=_int_arg("category"))


def month_arg(month: tuple[int, int]) -> str:
    return f"{month[0]}-{month[1]:02d}"


def _month_choices(period: reports.Period) -> list[tuple[int, int]]:
    now = reports.Period.current().first
    back = reports.Period(now, now).shifted(-MONTHS_OFFERED + 1).first
    months = set(reports.Period(back, now).months) | {period.first, period.last}
    return sorted(months, reverse=True)


def ticket_url(ticket_id: int) -> str | None:
    """The ticket page (``/service/tickets/<id>``, drawn by the ticket views), if there is one."""
    found = current_app.extensions.get("service_ticket_rule")
    if found is None:
        found = next(((rule.endpoint, rule.arguments.copy().pop()) for rule in
                      current_app.url_map.iter_rules()
                      if re.fullmatch(r"/service/tickets/<int:\w+>", rule.rule)
                      and "GET" in (rule.methods or ())), ("", ""))
        current_app.extensions["service_ticket_rule"] = found
    endpoint, argument = found
    return url_for(endpoint, **{argument: ticket_id}) if endpoint else None


def _names(dimension: str, keys) -> dict:
    ids = [k for k in keys if k is not None]
    if not ids:
        return {}
    if dimension == "agent":
        rows = db.session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
        return {ident: name or email for ident, name, email in rows}
    model = Team if dimension == "team" else Category
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def breakdown_rows(f: reports.Filters, dimension: str) -> list[tuple[str, reports.Figures]]:
    """(name, figures) per agent, team or category; the unassigned row last."""
    found = reports.breakdown(f, dimension)
    names = _names(dimension, found)
    nobody = {"agent": _("Unassigned"), "team": _("No team"), "category": _("No category")}
    return [(names.get(key, nobody[dimension]) if key is not None else nobody[dimension], fig)
            for key, fig in found.items()]


def _tickets_chart(months: dict) -> dict:
    figures = list(months.values())
    return {"type": "bar", "data": {"labels": [jmonth(m) for m in months], "datasets": [
        {"label": _("Opened"), "data": [f.created for f in figures]},
        {"label": _("Resolved"), "data": [f.resolved for f in figures]}]}}


def _chart(months: dict) -> dict:
    labels = [jmonth(m) for m in months]
    figures = list(months.values())
    return {
        "type": "line",
        "data": {"labels": labels, "datasets": [
            {"label": _("CSAT average (%(low)d to %(high)d)", low=1, high=5), "yAxisID": "csat",
             "data": [round(f.csat_avg, 2) if f.csat_n else None for f in figures]},
            {"label": _("NPS"), "yAxisID": "nps", "borderDash": [4, 4],
             "data": [f.nps for f in figures]},
        ]},
        "options": {"spanGaps": True, "scales": {
            "csat": {"type": "linear", "position": "left", "min": 1, "max": 5},
            "nps": {"type": "linear", "position": "right", "min": -100, "max": 100,
                    "grid": {"drawOnChartArea": False}}}},
    }


@bp.route("/reports", endpoint="reports")
@require_permission("service.view")
def reports_page():
    """Ticket ages, first-contact resolution, response times, SLA, CSAT/NPS and complainers."""
    f = current_filters()
    months = reports.monthly(f)
    total = reports.combine(months.values())
    return render_template(
        "service/reports.html", f=f, period=f.period, total=total, months=months,
        chart=_chart(months), tickets_chart=_tickets_chart(months), ages=reports.open_ages(f),
        agents=breakdown_rows(f, "agent"), teams=breakdown_rows(f, "team"),
        categories=breakdown_rows(f, "category"), complainers=reports.top_complainers(f),
        month_choices=_month_choices(f.period), month_arg=month_arg,
        team_choices=db.session.execute(select(Team).order_by(Team.name)).scalars().all(),
        category_choices=db.session.execute(
            select(Category).order_by(Category.position, Category.name)).scalars().all(),
        ticket_url=ticket_url, tables=TABLES)



def _csv_month(month: tuple[int, int]) -> str:
    return f"{MONTHS[current_locale()][month[1] - 1]} {month[0]}"


def _figure_headers() -> list[str]:
    return [_("Tickets opened"), _("Resolved"), _("First-contact resolution"),
            _("Average first response (business hours)"),
            _("Average resolution (business hours)"), _("Closed"), _("SLA compliance"),
            _("First response on time"), _("Resolution on time"), _("CSAT answers"),
            _("CSAT average")]


def _figure_cells(fig: reports.Figures) -> list:
    return [fig.created, fig.resolved, percent(fig.fcr_rate, "en"),
            hours_minutes(fig.first_response, "en"),
            hours_minutes(fig.resolution, "en"), fig.closed,
            percent(fig.sla_rate, "en"), percent(fig.fr_rate, "en"),
            percent(fig.res_rate, "en"), fig.csat_n,
            f"{fig.csat_avg:.2f}" if fig.csat_n else ""]


def csv_rows(table: str, f: reports.Filters) -> list[list]:
    """The rows of one report table, header first; labels in the user's language."""
    if table == "ages":
        return [[_("Age"), _("Open tickets")],
                *[[str(label), count] for label, count in reports.open_ages(f)]]
    if table == "months":
        header = [_("Month"), *_figure_headers(), *[_("CSAT %(score)s", score=n)
                                                    for n in range(1, 6)],
                  _("NPS answers"), _("Promoters"), _("Detractors"), _("NPS")]
        return [header, *[[_csv_month(m), *_figure_cells(fig), *fig.csat, fig.nps_n,
                           fig.promoters, fig.detractors, "" if fig.nps is None else fig.nps]
                          for m, fig in reports.monthly(f).items()]]
    if table in ("agents", "teams", "categories"):
        dimension = {"agents": "agent", "teams": "team", "categories": "category"}[table]
        first = {"agent": _("Agent"), "team": _("Team"), "category": _("Category")}[dimension]
        return [[first, *_figure_headers()],
                *[[name, *_figure_cells(fig)] for name, fig in breakdown_rows(f, dimension)]]
    from core.i18n import jdate

    return [[_("Customer"), _("Customer id"), _("Complaints"), _("Still open"),
             _("Last complaint")],
            *[[c.name, c.customer_id, c.complaints, c.open, jdate(c.last, locale="en")]
              for c in reports.top_complainers(f)]]


@bp.route("/reports/<any(ages, months, agents, teams, categories, complainers):table>.csv")
@require_permission("service.view")
def reports_csv(table: str):
    """One table of the report page as CSV (UTF-8 with BOM so spreadsheets read Persian)."""
    f = current_filters()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(table, f))
    name = f"service-{table}-{month_arg(f.period.first)}-{month_arg(f.period.last)}.csv"
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
