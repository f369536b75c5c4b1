"""Export the current customer list (same search, filters, sort and scope) as CSV or XLSX."""

import csv
import io
from collections.abc import Iterator
from datetime import date

from flask import Response, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.auth.permissions import require_permission
from core.customers.custom_fields import definitions
from core.customers.models import Customer, CustomField
from core.customers.search import scores_for, search
from core.customers.views import bp, list_filters, segment_choices
from core.extensions import db
from core.i18n import jdate

BATCH = 1000


def _headers(fields: list[CustomField]) -> list[str]:
    return [_("Id"), _("Kind"), _("Display name"), _("First name"), _("Last name"),
            _("Legal name"), _("National code"), _("National id"), _("Economic code"),
            _("Mobiles"), _("Phones"), _("Emails"), _("Birthday"), _("Wedding anniversary"),
            _("Source"), _("Tags"), _("Owner"), _("Added"), _("Segment"), _("Priority"),
            *[f.label for f in fields]]


def _day(value) -> str:
    return jdate(value, locale="en") if value else ""  # Latin digits for spreadsheets


def _custom(field: CustomField, value):
    if value is None or value == "":
        return ""
    if field.type == "date":
        return _day(date.fromisoformat(value))
    if field.type == "bool":
        return _("Yes") if value else _("No")
    return value


def _row(c: Customer, fields: list[CustomField], score, segments: dict) -> list:
    kinds = {"person": _("Person"), "organisation": _("Organisation")}
    custom = c.custom or {}
    return [c.id, kinds.get(c.kind, c.kind), c.display_name, c.first_name, c.last_name,
            c.legal_name, c.national_code or "", c.national_id or "", c.economic_code or "",
            " ".join(c.values("mobile")), " ".join(c.values("phone")),
            " ".join(c.values("email")), _day(c.birthday), _day(c.anniversary), c.source,
            ", ".join(t.name for t in c.tags),
            (c.owner.name or c.owner.email) if c.owner else "", _day(c.created_at),
            segments.get(score.segment, score.segment) if score else "",
            round(score.priority, 1) if score and score.priority is not None else "",
            *[_custom(f, custom.get(f.name)) for f in fields]]


def _rows(fields: list[CustomField]) -> Iterator[list]:
    """Every customer of the current list view (search, filters, sort, scope) in list order,
    loaded in batches (no page limit)."""
    stmt, _sort, columns = search(request.args.get("q", ""), list_filters(),
                                  request.args.get("sort"))
    ids = list(db.session.execute(stmt.with_only_columns(Customer.id).order_by(*columns))
               .scalars())
    segments = dict(segment_choices())
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        loaded = {c.id: c for c in db.session.execute(
            select(Customer).where(Customer.id.in_(chunk)).options(
                selectinload(Customer.contacts), selectinload(Customer.tags))).unique().scalars()}
        scores = scores_for(chunk)
        for ident in chunk:
            yield _row(loaded[ident], fields, scores.get(ident), segments)


@bp.route("/export.csv")
@require_permission("customers.import")
def export_csv():
    """The current list as CSV (UTF-8 with a BOM, so spreadsheet programs read Persian)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    fields = definitions()
    writer.writerow(_headers(fields))
    for row in _rows(fields):
        writer.writerow(row)
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=customers.csv"})


@bp.route("/export.xlsx")
@require_permission("customers.import")
def export_xlsx():
    """The current list as an Excel workbook (right-to-left sheet)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Customers"))
    sheet.sheet_view.rightToLeft = True
    fields = definitions()
    sheet.append(_headers(fields))
    for row in _rows(fields):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet",
                    headers={"Content-Disposition": "attachment; filename=customers.xlsx"})
