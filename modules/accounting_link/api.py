"""The accounting link in the REST API: ``/api/v1/accounting/{journal,outbox,export}``.

Dates (``from``, ``to``) are ISO (``2026-03-21``) or Jalali (``1405/01/01``), both inclusive.
"""

from datetime import date

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from sqlalchemy import exists, select

from core.api.problems import invalid_fields
from core.api.serialise import respond
from core.auth.permissions import require_permission
from core.extensions import db
from core.i18n import parse_jalali_date, to_jalali
from core.outbox import STATUSES
from core.pagination import keyset_page
from modules.accounting_link import delivery
from modules.accounting_link.models.delivery import Delivery
from modules.accounting_link.models.journal import (
    SOURCE_KINDS,
    Account,
    JournalEntry,
    JournalLine,
)

bp = Blueprint("accounting_link_api", __name__, url_prefix="/api/v1/accounting",
               description="Accounting link: the journal, deliveries to accounting systems, "
                           "exports.")

EXPORT_FORMATS = {
    "csv": ("export_csv", "text/csv; charset=utf-8", "csv"),
    "xlsx": ("export_xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "beancount": ("export_beancount", "text/plain; charset=utf-8", "beancount"),
}


class AccountingLineOut(ma.Schema):
    position = ma.fields.Integer()
    account_code = ma.fields.Function(lambda line: line.account.code)
    account_name = ma.fields.Function(lambda line: line.account.name)
    role = ma.fields.String()
    debit = ma.fields.Integer()
    credit = ma.fields.Integer()
    memo = ma.fields.String()


class AccountingEntryOut(ma.Schema):
    id = ma.fields.Integer()
    reference = ma.fields.Function(lambda e: e.reference_label,
                                   metadata={"description": "<fiscal year>-<number>"})
    fiscal_year = ma.fields.Integer()
    number = ma.fields.Integer()
    date = ma.fields.Date(attribute="entry_date")
    date_jalali = ma.fields.Function(lambda e: to_jalali(e.entry_date).strftime("%Y-%m-%d"))
    kind = ma.fields.String()
    source_type = ma.fields.String()
    source_id = ma.fields.Integer(allow_none=True)
    document_reference = ma.fields.String(attribute="reference")
    description = ma.fields.String()
    customer_id = ma.fields.Integer(allow_none=True)
    total = ma.fields.Integer()
    reverses_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    lines = ma.fields.List(ma.fields.Nested(AccountingLineOut))


class PeriodArgs(ma.Schema):
    start = ma.fields.String(data_key="from", load_default=None,
                             metadata={"description": "First day, ISO or Jalali"})
    end = ma.fields.String(data_key="to", load_default=None,
                           metadata={"description": "Last day, ISO or Jalali"})


class JournalArgs(PeriodArgs):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(SOURCE_KINDS))
    account = ma.fields.String(load_default=None,
                               metadata={"description": "Entries with a line on this "
                                                        "account code"})
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class AccountingEntryPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AccountingEntryOut))
    next = ma.fields.String(allow_none=True,
                            metadata={"description": "Pass as 'after' for the next page"})


class AccountingDeliveryOut(ma.Schema):
    id = ma.fields.Integer(metadata={"description": "The outbox message id"})
    entry_id = ma.fields.Integer()
    entry_reference = ma.fields.String()
    kind = ma.fields.String()
    document = ma.fields.String()
    connector_id = ma.fields.Integer()
    connector = ma.fields.String()
    status = ma.fields.String(metadata={"description": "pending, delivered or dead"})
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    next_attempt_at = ma.fields.DateTime()
    delivered_at = ma.fields.DateTime(allow_none=True)


class OutboxArgs(ma.Schema):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES))
    connector_id = ma.fields.Integer(load_default=None)
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))


class AccountingDeliveryPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(AccountingDeliveryOut))
    next = ma.fields.String(allow_none=True)


class ExportArgs(PeriodArgs):
    format = ma.fields.String(load_default="csv", validate=ma.validate.OneOf(EXPORT_FORMATS))


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    text = value.strip()
    try:
        if "/" in text or not text.isascii():
            return parse_jalali_date(text)
        return date.fromisoformat(text)
    except ValueError:
        invalid_fields({field: [_("Use a date like 2026-03-21 or 1405/01/01.")]})


def _period(args) -> tuple[date | None, date | None]:
    start, end = _day(args["start"], "from"), _day(args["end"], "to")
    if start and end and start > end:
        invalid_fields({"to": [_("The end of the period is before its start.")]})
    return start, end


@bp.route("/journal")
class Journal(MethodView):
    @require_permission("accounting_link.view")
    @bp.arguments(JournalArgs, location="query")
    @bp.response(200, AccountingEntryPage)
    def get(self, args):
        """Journal entries with their lines, newest first; by period, kind and account code."""
        start, end = _period(args)
        stmt = select(JournalEntry)
        if start:
            stmt = stmt.where(JournalEntry.entry_date >= start)
        if end:
            stmt = stmt.where(JournalEntry.entry_date <= end)
        if args["kind"]:
            stmt = stmt.where(JournalEntry.kind == args["kind"])
        if args["account"]:
            stmt = stmt.where(exists().where(
                JournalLine.entry_id == JournalEntry.id, JournalLine.account_id == Account.id,
                Account.code == args["account"].strip()))
        page = keyset_page(stmt, [JournalEntry.entry_date.desc(), JournalEntry.id.desc()],
                           after=args["after"], size=args["size"])
        return respond(AccountingEntryPage, {"items": page.items, "next": page.next_token})


@bp.route("/journal/<int:entry_id>")
class JournalItem(MethodView):
    @require_permission("accounting_link.view")
    @bp.response(200, AccountingEntryOut)
    def get(self, entry_id):
        """One journal entry with its lines."""
        return db.get_or_404(JournalEntry, entry_id)


@bp.route("/outbox")
class Outbox(MethodView):
    @require_permission("accounting_link.view")
    @bp.arguments(OutboxArgs, location="query")
    @bp.response(200, AccountingDeliveryPage)
    def get(self, args):
        """The delivery state of each entry to each connector, newest first."""
        page = keyset_page(delivery.states(args["status"], args["connector_id"]),
                           [Delivery.id.desc()], after=args["after"], size=args["size"])
        return {"items": [delivery.state_dict(*row) for row in page.items],
                "next": page.next_token}


@bp.route("/outbox/<int:message_id>/retry")
class OutboxRetry(MethodView):
    @require_permission("accounting_link.manage")
    @bp.response(200, AccountingDeliveryOut)
    def post(self, message_id):
        """Deliver a dead (or waiting) entry again, its attempts reset; 409 once delivered."""
        row = db.session.execute(
            delivery.states().where(Delivery.message_id == message_id)).first()
        if row is None:
            abort(404, message=_("There is no such delivery."))
        if row[1].status == "delivered":
            abort(409, message=_("This entry was already delivered."))
        delivery.retry(message_id)
        from core import jobs
        from core.audit import record
        from core.outbox import relay_job

        record("accounting_link.retry", target=f"core_outbox:{message_id}")
        db.session.commit()
        jobs.enqueue(relay_job)
        db.session.refresh(row[1])
        return delivery.state_dict(*row)


@bp.route("/export")
class Export(MethodView):
    @require_permission("accounting_link.view")
    @bp.arguments(ExportArgs, location="query")
    @bp.response(200, description="The file: CSV, XLSX or beancount")
    def get(self, args):
        """The journal of a period as a file (``format`` csv, xlsx or beancount)."""
        start, end = _period(args)
        if start is None or end is None:
            invalid_fields({"from" if start is None else "to":
                            [_("Give the first and the last day of the period.")]})
        from modules.accounting_link import exports

        function, mimetype, extension = EXPORT_FORMATS[args["format"]]
        content = getattr(exports, function)(start, end)
        name = f"journal-{start.isoformat()}-{end.isoformat()}.{extension}"
        return Response(content, mimetype=mimetype, headers={
            "Content-Disposition": f'attachment; filename="{name}"'})


def register(app) -> None:
    """Add the accounting API to ``/api/v1`` (its OpenAPI document included)."""
    from core.extensions import api

    api.register_blueprint(bp, app=app)
