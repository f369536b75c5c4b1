"""Official holidays of a business calendar: the fixed solar ones, and imports for a Jalali year.

The file has two columns, ``jalali_date,name`` (CSV or XLSX), e.g. ``1404/01/01,Nowruz``. Lunar
holidays move every year, so they come from the file; the fixed solar ones can be loaded with
``load_fixed``. A file with any bad line imports nothing and names every bad line.
"""

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jdatetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.customers.import_parse import FileProblem, cell_text, open_table
from core.extensions import db
from core.i18n import normalize, parse_jalali_date
from modules.service.models.sla import Calendar, Holiday

# (Jalali month, day, name): the official holidays on the solar calendar
FIXED = (
    (1, 1, _l("Nowruz")), (1, 2, _l("Nowruz")), (1, 3, _l("Nowruz")), (1, 4, _l("Nowruz")),
    (1, 12, _l("Islamic Republic Day")), (1, 13, _l("Nature Day (Sizdah Bedar)")),
    (3, 14, _l("Passing of Imam Khomeini")), (3, 15, _l("Uprising of 15 Khordad")),
    (11, 22, _l("Victory of the Islamic Revolution")),
    (12, 29, _l("Nationalisation of the oil industry")),
)
DATE_HEADERS = {"jalali_date", "date", "jalali date", "تاریخ", "تاریخ شمسی"}
NAME_HEADERS = {"name", "title", "نام", "عنوان", "مناسبت"}


def fixed_holidays(year: int) -> list[tuple[date, str]]:
    """The fixed solar holidays of Jalali ``year`` as (Gregorian date, name)."""
    return [(jdatetime.date(year, month, day).togregorian(), str(name))
            for month, day, name in FIXED]


def _save(calendar: Calendar, rows: list[tuple[date, str]]) -> tuple[int, int]:
    """Add or rename holidays; (added, updated)."""
    existing = {h.day: h for h in db.session.scalars(
        select(Holiday).where(Holiday.calendar_id == calendar.id,
                              Holiday.day.in_([d for d, _n in rows])))}
    added = updated = 0
    for day, name in rows:
        holiday = existing.get(day)
        if holiday is None:
            holiday = Holiday(calendar_id=calendar.id, day=day, name=name)
            db.session.add(holiday)
            existing[day] = holiday
            added += 1
        elif name and holiday.name != name:
            holiday.name = name
            updated += 1
    db.session.flush()
    return added, updated


def load_fixed(calendar: Calendar, year: int) -> int:
    """Add the fixed solar holidays of Jalali ``year`` to ``calendar``; how many were new."""
    return _save(calendar, fixed_holidays(year))[0]


@dataclass
class ImportResult:
    """What an import did, or the lines that stopped it."""

    added: int = 0
    updated: int = 0
    errors: list[tuple[int | None, str]] = field(default_factory=list)


def _column(headers: list[str], names: set[str]) -> int | None:
    for index, header in enumerate(headers):
        if normalize(header).replace("_", " ") in {normalize(n).replace("_", " ")
                                                   for n in names}:
            return index
    return None


def _jalali_year(day: date) -> int:
    return jdatetime.date.fromgregorian(date=day).year


def read_file(path: str | Path, year: int | None = None) -> ImportResult | list:
    """``[(date, name)]`` from the file, or an ``ImportResult`` holding its errors."""
    result = ImportResult()
    try:
        table = open_table(path)
        date_col, name_col = (_column(table.headers, DATE_HEADERS),
                              _column(table.headers, NAME_HEADERS))
        if date_col is None or name_col is None:
            result.errors.append((table.header_line, _(
                "The first line must name the columns jalali_date and name "
                "(for example: jalali_date,name).")))
            return result
        rows, seen = [], {}
        for line, cells in table.rows():
            raw, name = cells[date_col], cell_text(cells[name_col]).strip()
            try:
                day = raw if isinstance(raw, date) else parse_jalali_date(cell_text(raw))
            except ValueError as exc:
                result.errors.append((line, str(exc)))
                continue
            if year is not None and _jalali_year(day) != year:
                result.errors.append((line, _("%(value)s is not in the year %(year)d.",
                                              value=cell_text(raw), year=year)))
            elif not name:
                result.errors.append((line, _("Give the holiday a name.")))
            elif day in seen:
                result.errors.append((line, _("This date is already on line %(line)d.",
                                              line=seen[day])))
            else:
                seen[day] = line
                rows.append((day, name[:200]))
        if not rows and not result.errors:
            result.errors.append((None, _("The file has no holidays.")))
    except FileProblem as problem:
        result.errors.append((problem.line, problem.message))
    return result if result.errors else rows


def import_file(calendar: Calendar, path: str | Path, year: int | None = None) -> ImportResult:
    """Import ``jalali_date,name`` rows into ``calendar``; all or nothing."""
    rows = read_file(path, year)
    if isinstance(rows, ImportResult):
        return rows
    added, updated = _save(calendar, rows)
    return ImportResult(added=added, updated=updated)
