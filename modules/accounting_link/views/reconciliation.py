"""Accounting-link pages: reconciliation of a Jalali period against the accounting side's
documents (an uploaded file, its columns matched like an import, or the settlements pulled
over REST), with a CSV download.

``?from=1404/01/01&to=1404/01/31`` (any digits) and either ``token=<upload>`` or
``source=rest``; without a source the page asks for one.
"""

import csv
import io
from datetime import date

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import RadioField

from core.auth.permissions import require_permission
from core.customers import import_jobs
from core.customers.import_parse import FileProblem, open_table
from core.database import get_setting, utcnow
from core.fields import JalaliDateField
from core.i18n import jalali_month_of, jalali_month_range, local_date, parse_jalali_date
from modules.accounting_link import imports as importer
from modules.accounting_link import reconciliation
from modules.accounting_link.views import bp
from modules.accounting_link.views.imports import mapping_step

VIEW = "accounting_link.view"
KIND = "documents"


class PeriodForm(FlaskForm):
    start = JalaliDateField(_l("From"))
    end = JalaliDateField(_l("To"))
    source = RadioField(_l("The accounting side"), default="file", choices=[
        ("file", _l("A file of its documents (number, date, amount)")),
        ("rest", _l("The settlements pulled over REST"))])
    file = FileField(_l("CSV or Excel file"), validators=[
        FileAllowed(import_jobs.EXTENSIONS, _l("Choose a CSV or Excel (XLSX) file."))],
        description=_l("The document list as the accounting package exports it."))


def _default_period() -> tuple[date, date]:
    year, month = jalali_month_of(local_date(utcnow()))
    start, following = jalali_month_range(year, month)
    return start, date.fromordinal(following.toordinal() - 1)


def _period_args() -> tuple[date, date] | None:
    try:
        return (parse_jalali_date(request.args["from"]), parse_jalali_date(request.args["to"]))
    except (KeyError, ValueError):
        return None


def _period_query(start: date, end: date) -> dict:
    import jdatetime

    def text(day):
        return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")

    return {"from": text(start), "to": text(end)}


def _documents_upload(token: str):
    info = import_jobs.upload_info(token)
    if info is None or info["user_id"] != current_user.id or info.get("kind") != KIND:
        abort(404)
    return info


def _accounting_side(token: str | None, source: str | None):
    """The accounting documents, or (None, message) when they cannot be read."""
    if token:
        info = _documents_upload(token)
        rows = importer.read_file(KIND, import_jobs.upload_path(token, info), info["mapping"])
        bad = [r for r in rows if r.errors]
        if bad:
            return None, [(r.line, c, m) for r in bad for c, m in r.errors]
        return reconciliation.accounting_documents(rows), info["name"]
    if source == "rest":
        url = (get_setting(importer.URL_SETTING) or "").strip()
        if not url:
            raise importer.PullProblem(_("No settlements URL is configured; set it on the "
                                         "Imports tab."))
        rows = importer.fetch_settlement_rows(url)
        return reconciliation.settlement_documents(rows), url
    return None, None


@bp.route("/reconciliation", methods=["GET", "POST"], endpoint="reconciliation")
@require_permission(VIEW)
def reconciliation_page():
    """Choose the period and the accounting side; then the report."""
    period = _period_args()
    form = PeriodForm(start=period[0] if period else _default_period()[0],
                      end=period[1] if period else _default_period()[1],
                      source=request.args.get("source") or "file")
    if form.validate_on_submit():
        start, end = form.start.data, form.end.data
        if start is None or end is None or end < start:
            form.end.errors = [_("Give a period whose end is not before its start.")]
        elif form.source.data == "rest":
            return redirect(url_for("accounting_link.reconciliation", source="rest",
                                    **_period_query(start, end)))
        elif not form.file.data:
            form.file.errors = [_("Choose the accounting package's document file.")]
        else:
            token = import_jobs.save_upload(form.file.data, current_user.id)
            info = import_jobs.upload_info(token)
            import_jobs.set_mapping(token, {**info, "kind": KIND}, None)
            try:
                open_table(import_jobs.upload_path(token, info))
            except FileProblem as exc:
                import_jobs.discard_upload(token)
                form.file.errors = [exc.message]
            else:
                return redirect(url_for("accounting_link.reconciliation_mapping", token=token,
                                        **_period_query(start, end)))
    report, problem, side, row_errors = None, None, None, None
    token, source = request.args.get("token"), request.args.get("source")
    if request.method == "GET" and period and (token or source == "rest"):
        try:
            documents, side = _accounting_side(token, source)
            if documents is None:
                row_errors = side
            else:
                report = reconciliation.reconcile(*period, documents)
        except (FileProblem, importer.PullProblem, ValueError) as exc:
            problem = getattr(exc, "message", None) or str(exc)
    query = {**_period_query(*period), **({"token": token} if token else {"source": source})} \
        if period else {}
    return render_template("accounting_link/reconciliation.html", form=form, report=report,
                           problem=problem, side=side, row_errors=row_errors, query=query,
                           active="reconciliation",
                           kind_label=reconciliation.kind_label)


@bp.route("/reconciliation/<token>/columns", methods=["GET", "POST"])
@require_permission(VIEW)
def reconciliation_mapping(token: str):
    """Match the columns of the accounting document file (remembered for the next one)."""
    info = _documents_upload(token)
    period = _period_args()
    if period is None:
        abort(404)
    table = open_table(import_jobs.upload_path(token, info))
    step = mapping_step(token, info, table, KIND,
                        back=url_for("accounting_link.reconciliation"),
                        done=url_for("accounting_link.reconciliation", token=token,
                                     **_period_query(*period)))
    if not isinstance(step, dict):
        return step
    return render_template("accounting_link/reconciliation_mapping.html", **step, info=info,
                           active="reconciliation", token=token)


@bp.route("/reconciliation.csv")
@require_permission(VIEW)
def reconciliation_csv():
    """The report's three lists as CSV (UTF-8 with BOM, for Excel)."""
    period = _period_args()
    if period is None:
        abort(404)
    try:
        documents, side = _accounting_side(request.args.get("token"),
                                           request.args.get("source"))
    except (FileProblem, importer.PullProblem) as exc:
        abort(Response(getattr(exc, "message", None) or str(exc), status=422))
    if documents is None:
        abort(404)
    report = reconciliation.reconcile(*period, documents)
    out = io.StringIO()
    csv.writer(out).writerows(reconciliation.csv_rows(report))
    name = "reconciliation-{from}-{to}.csv".format(
        **{k: v.replace("/", "") for k, v in _period_query(*period).items()})
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
