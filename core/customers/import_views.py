"""Import pages: upload a file, map its columns, preview, then run (or try) it as a job."""

from datetime import date

from flask import abort, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField

from core import jobs
from core.auth.permissions import has_permission, require_permission
from core.customers import import_jobs
from core.customers.custom_fields import definitions
from core.customers.import_mapping import choices, problems, remember, suggest
from core.customers.import_parse import FileProblem, Table, open_table
from core.customers.import_rows import RowReader
from core.customers.import_write import BatchWriter
from core.customers.views import bp
from core.extensions import db
from core.i18n import current_locale
from core.jobs.progress import JobProgress, JobRecord

PREVIEW_ROWS = 20
SAMPLE_ROWS = 3


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or Excel file"), validators=[
        FileRequired(_l("Choose a file to import.")),
        FileAllowed(import_jobs.EXTENSIONS, _l("Choose a CSV or Excel (XLSX) file."))],
        description=_l("The first line names the columns. A CSV file as Excel or any "
                       "spreadsheet saves it, or an Excel workbook (its first sheet)."))


class RunForm(FlaskForm):
    pass


def mapping_form(headers: list[str], mapping: list[str]) -> FlaskForm:
    """One select per column (``col_<i>``), preset to ``mapping``."""
    options = choices()
    fields = {f"col_{i}": SelectField(header or _("Column %(n)d", n=i + 1), choices=options,
                                      default=mapping[i])
              for i, header in enumerate(headers)}
    return type("ImportMappingForm", (FlaskForm,), fields)()


def _upload(token: str) -> tuple[dict, Table]:
    """The current user's upload and its table; 404 for anyone else's or a missing one."""
    info = import_jobs.upload_info(token)
    if info is None or info["user_id"] != current_user.id:
        abort(404)
    return info, open_table(import_jobs.upload_path(token, info))


def _job(job_id: int) -> JobRecord:
    record = db.session.get(JobRecord, job_id)
    if record is None or record.kind != import_jobs.KIND or not (
            record.created_by == current_user.id or has_permission("*")):
        abort(404)
    return record


@bp.route("/import", methods=["GET", "POST"])
@require_permission("customers.import")
def import_upload():
    """Step 1: upload a CSV or XLSX file."""
    form = UploadForm()
    if form.validate_on_submit():
        token = import_jobs.save_upload(form.file.data, current_user.id)
        try:
            _upload(token)
        except FileProblem as exc:
            import_jobs.discard_upload(token)
            form.file.errors = [exc.message]
        else:
            return redirect(url_for("customers.import_mapping", token=token))
    return render_template("customers/import.html", form=form, step=1)


@bp.route("/import/<token>", methods=["GET", "POST"])
@require_permission("customers.import")
def import_mapping(token: str):
    """Step 2: which customer field each column fills (guessed, or as chosen last time)."""
    try:
        info, table = _upload(token)
        sample = table.sample(SAMPLE_ROWS)
    except FileProblem as exc:
        return render_template("customers/import.html", form=UploadForm(), step=1,
                               problem=exc), 422
    preset, was_remembered = suggest(table.headers)
    form = mapping_form(table.headers, info.get("mapping") or preset)
    errors = []
    if form.validate_on_submit():
        mapping = [form[f"col_{i}"].data or "" for i in range(len(table.headers))]
        errors = problems(mapping)
        if not errors:
            import_jobs.set_mapping(token, info, mapping)
            remember(table.headers, mapping)
            db.session.commit()
            return redirect(url_for("customers.import_preview", token=token))
    return render_template("customers/import_mapping.html", form=form, table=table, info=info,
                           sample=sample, remembered=was_remembered, errors=errors, step=2,
                           token=token)


@bp.route("/import/<token>/preview")
@require_permission("customers.import")
def import_preview(token: str):
    """Step 3: the first rows as they will be saved, with each row's problem or outcome."""
    info, table = _upload(token)
    if not info.get("mapping"):
        return redirect(url_for("customers.import_mapping", token=token))
    labels = dict(choices())
    try:
        rows = _preview_rows(table, info["mapping"])
    except FileProblem as exc:
        rows, problem = [], exc
    else:
        problem = None
    targets = list(dict.fromkeys(t for t in info["mapping"] if t))
    columns = [(t, labels.get(t, t)) for t in targets]
    return render_template("customers/import_preview.html", info=info, table=table,
                           rows=rows, columns=columns, problem=problem, form=RunForm(),
                           token=token, step=3)


def _preview_rows(table: Table, mapping: list[str]) -> list[tuple]:
    read = RowReader(mapping)
    records = [read(line, values) for line, values in table.sample(PREVIEW_ROWS)]
    writer = BatchWriter(by=current_user, dry_run=True)
    try:
        good = [r for r in records if not r.errors]
        outcomes = {id(r): outcome for r, outcome in writer.write(good)}
    finally:
        writer.close()
        db.session.rollback()
    dates = {d.name for d in definitions() if d.type == "date"}
    for record in records:  # shown with |jdate
        for name in dates & record.custom.keys():
            record.custom[name] = date.fromisoformat(record.custom[name])
    return [(r, r.reason() if r.errors else outcomes[id(r)]) for r in records]


@bp.route("/import/<token>/run", methods=["POST"])
@require_permission("customers.import")
def import_run(token: str):
    """Start the import (or, with ``dry_run``, a trial that writes nothing) as a job."""
    info, _table = _upload(token)
    if not RunForm().validate_on_submit() or not info.get("mapping"):
        abort(400)
    dry_run = request.form.get("dry_run") == "1"
    job_id = JobProgress.create(import_jobs.KIND, created_by=current_user.id).id
    jobs.enqueue(import_jobs.import_customers, token, job_id=job_id, dry_run=dry_run,
                 user_id=current_user.id, locale=current_locale())
    db.session.commit()
    return redirect(url_for("customers.import_job", job_id=job_id))


@bp.route("/import/jobs/<int:job_id>")
@require_permission("customers.import")
def import_job(job_id: int):
    """Step 4: the import's progress, then what it did and the rejected rows."""
    job = _job(job_id)
    return render_template("customers/import_job.html", job=job, form=RunForm(), step=4,
                           **_outcome(job))


@bp.route("/import/jobs/<int:job_id>/status")
@require_permission("customers.import")
def import_status(job_id: int):
    """The progress bar (htmx polls it), with the summary once the job is over."""
    job = _job(job_id)
    return render_template("customers/import_status.html", job=job, form=RunForm(),
                           **_outcome(job))


def _outcome(job: JobRecord) -> dict:
    result = job.result or {}
    token = result.get("token")
    info = import_jobs.upload_info(token) if token else None
    can_run = bool(info and info["user_id"] == current_user.id and info.get("mapping"))
    report = import_jobs.report_path(job.id)
    return {"result": result, "token": token if can_run else None,
            "has_report": job.status == "done" and result.get("rejected") and report.exists()}


@bp.route("/import/jobs/<int:job_id>/rejected.csv")
@require_permission("customers.import")
def import_rejected(job_id: int):
    """The rejected rows (line, original values, reason) as CSV."""
    job = _job(job_id)
    path = import_jobs.report_path(job.id)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"rejected-rows-{job.id}.csv")
