"""Accounting-link pages: download the journal of a Jalali period (or a fiscal year) as CSV,
XLSX or beancount; every download is audited."""

from datetime import date

from flask import Response, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import audit
from core.auth.permissions import require_permission
from core.database import utcnow
from core.extensions import db
from core.i18n import fiscal_year_of, jdate, local_date, parse_jalali_date, to_latin_digits
from modules.accounting_link import exports
from modules.accounting_link.models.journal import FiscalYear, JournalEntry, JournalLine
from modules.accounting_link.views import bp


def format_labels() -> dict[str, str]:
    return {"csv": _("CSV (Excel, Sepidar, Hamkaran)"), "xlsx": _("Excel workbook (XLSX)"),
            "beancount": _("Beancount ledger")}


def fiscal_years() -> list[tuple[int, int]]:
    """(year, entries) of every fiscal year with a row or an entry, newest first."""
    counts = dict(db.session.execute(
        select(JournalEntry.fiscal_year, func.count(JournalEntry.id))
        .group_by(JournalEntry.fiscal_year)).all())
    years = set(counts) | set(db.session.execute(select(FiscalYear.year)).scalars())
    years.add(fiscal_year_of(local_date(utcnow())))
    return [(year, counts.get(year, 0)) for year in sorted(years, reverse=True)]


def _chosen() -> tuple[date | None, date | None, str, dict[str, str]]:
    """The period and format of the query string, with an error per wrong field."""
    errors: dict[str, str] = {}
    fmt = request.args.get("format", "csv")
    if fmt not in exports.FORMATS:
        errors["format"] = _("Choose one of the formats.")
    year_text = to_latin_digits(request.args.get("year") or "").strip()
    by_year = request.args.get("period") == "year" or (
        "period" not in request.args and year_text and not request.args.get("from"))
    if by_year:
        if not year_text.isdigit():
            errors["year"] = _("Choose a fiscal year.")
            return None, None, fmt, errors
        start, end = exports.fiscal_year_period(int(year_text))
        return start, end, fmt, errors
    dates = {}
    for name in ("from", "to"):
        text = (request.args.get(name) or "").strip()
        if not text:
            errors[name] = _("Enter a Jalali date like 1404/01/01.")
            continue
        try:
            dates[name] = parse_jalali_date(text)
        except ValueError as exc:
            errors[name] = str(exc)
    start, end = dates.get("from"), dates.get("to")
    if start and end and end < start:
        errors["to"] = _("The period ends before it starts.")
    return start, end, fmt, errors


def _counts(start: date, end: date) -> tuple[int, int]:
    entries = select(JournalEntry.id).where(JournalEntry.entry_date >= start,
                                            JournalEntry.entry_date <= end)
    lines = select(func.count(JournalLine.id)).where(JournalLine.entry_id.in_(entries))
    return (db.session.execute(select(func.count()).select_from(entries.subquery())).scalar(),
            db.session.execute(lines).scalar())


def _page(errors=None, status: int = 200):
    years = fiscal_years()
    current = fiscal_year_of(local_date(utcnow()))
    start, end = exports.fiscal_year_period(current)
    return render_template("accounting_link/exports.html", years=years, formats=format_labels(),
                           errors=errors or {}, default_from=jdate(start), default_to=jdate(end),
                           columns=list(zip(exports.COLUMNS, exports.column_labels(),
                                            strict=True)),
                           current_year=current), status


@bp.route("/exports", endpoint="exports")
@require_permission("accounting_link.view")
def exports_page():
    """Choose a Jalali period or a fiscal year and a format, then download."""
    return _page()


@bp.route("/exports/download")
@require_permission("accounting_link.view")
def exports_download():
    """The journal file of the chosen period; the download is written to the audit log."""
    start, end, fmt, errors = _chosen()
    if errors:
        return _page(errors, 400)
    entries, lines = _counts(start, end)
    if not entries:
        errors["period"] = _("Nothing was posted from %(start)s to %(end)s; choose another "
                             "period.", start=jdate(start), end=jdate(end))
        return _page(errors, 404)
    try:
        body = exports.export(fmt, start, end)
    except exports.ExportError as exc:
        errors["period"] = str(exc)
        return _page(errors, 409)
    audit.record("accounting_link.export", target=f"journal:{start}..{end}",
                 detail={"format": fmt, "from": jdate(start, locale="en"),
                         "to": jdate(end, locale="en"), "entries": entries, "lines": lines})
    db.session.commit()
    name = exports.filename(fmt, start, end)
    return Response(body, mimetype=exports.MIMETYPES[fmt],
                    headers={"Content-Disposition": f"attachment; filename={name}"})
