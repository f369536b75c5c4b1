"""Accounting-link pages: imports back from the accounting package (customers, past sales,
payment settlements): upload, match the columns, preview, try or run as a job, the error
report; and the settlements URL pulled over REST."""

import csv
import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import SelectField, URLField
from wtforms.validators import URL, Optional

from core import jobs
from core.auth.permissions import has_permission, require_permission
from core.customers import import_jobs
from core.customers.import_parse import FileProblem, open_table
from core.database import get_setting, set_setting
from core.extensions import db
from core.i18n import current_locale
from core.jobs.progress import JobProgress, JobRecord
from modules.accounting_link import imports as importer
from modules.accounting_link.import_fields import (
    IMPORT_KINDS,
    KIND_LABELS,
    choices,
    labels,
    problems,
    read_row,
    remember,
    suggest,
)
from modules.accounting_link.import_writers import HANDLERS
from modules.accounting_link.views import bp

PREVIEW_ROWS = 20
SAMPLE_ROWS = 3
MANAGE = "accounting_link.manage"


class UploadForm(FlaskForm):
    kind = SelectField(_l("What the file holds"),
                       choices=[(k, KIND_LABELS[k]) for k in IMPORT_KINDS])
    file = FileField(_l("CSV or Excel file"), validators=[
        FileRequired(_l("Choose a file to import.")),
        FileAllowed(import_jobs.EXTENSIONS, _l("Choose a CSV or Excel (XLSX) file."))],
        description=_l("The file as the accounting package exports it; the first line "
                       "names the columns."))


class UrlForm(FlaskForm):
    url = URLField(_l("Settlements URL"), validators=[
        Optional(), URL(require_tld=False, message=_l("Give a web address (http or https)."))],
        description=_l("Answers a JSON list of settlements: invoice, amount, date, method, "
                       "reference. Pulled every hour and with the button below."))


class RunForm(FlaskForm):
    pass


def mapping_form(kind: str, headers: list[str], mapping: list[str]) -> FlaskForm:
    options = choices(kind)
    fields = {f"col_{i}": SelectField(header or _("Column %(n)d", n=i + 1), choices=options,
                                      default=mapping[i])
              for i, header in enumerate(headers)}
    return type("AccountingMappingForm", (FlaskForm,), fields)()


def _upload(token: str):
    info = import_jobs.upload_info(token)
    if info is None or info["user_id"] != current_user.id or info.get("kind") not in IMPORT_KINDS:
        abort(404)
    return info, open_table(import_jobs.upload_path(token, info))


def _job(job_id: int) -> JobRecord:
    record = db.session.get(JobRecord, job_id)
    if record is None or record.kind not in (importer.JOB_KIND, importer.PULL_KIND) or not (
            record.created_by == current_user.id or has_permission("*")):
        abort(404)
    return record


@bp.route("/imports", methods=["GET", "POST"], endpoint="imports")
@require_permission(MANAGE)
def imports_page():
    """Step 1: choose what the file holds and upload it; the settlements URL."""
    form = UploadForm()
    if form.validate_on_submit():
        token = import_jobs.save_upload(form.file.data, current_user.id)
        info = import_jobs.upload_info(token)
        import_jobs.set_mapping(token, {**info, "kind": form.kind.data}, None)
        try:
            open_table(import_jobs.upload_path(token, info))
        except FileProblem as exc:
            import_jobs.discard_upload(token)
            form.file.errors = [exc.message]
        else:
            return redirect(url_for("accounting_link.imports_mapping", token=token))
    url_form = UrlForm(url=get_setting(importer.URL_SETTING) or "")
    recent = db.session.execute(
        select(JobRecord).where(JobRecord.kind.in_((importer.JOB_KIND, importer.PULL_KIND)),
                                JobRecord.created_by == current_user.id)
        .order_by(JobRecord.id.desc()).limit(10)).scalars().all()
    return render_template("accounting_link/imports.html", form=form, url_form=url_form,
                           last_pull=get_setting(importer.LAST_PULL_SETTING), recent=recent,
                           kind_labels=KIND_LABELS, active="imports", step=1)


@bp.route("/imports/<token>", methods=["GET", "POST"])
@require_permission(MANAGE)
def imports_mapping(token: str):
    """Step 2: which field each column fills (remembered per kind of import)."""
    info, table = _upload(token)
    kind = info["kind"]
    step = mapping_step(token, info, table, kind, back=url_for("accounting_link.imports"),
                        done=url_for("accounting_link.imports_preview", token=token))
    if not isinstance(step, dict):
        return step
    return render_template("accounting_link/imports_mapping.html", **step, info=info,
                           kind_label=KIND_LABELS[kind], active="imports", step=2, token=token)


def mapping_step(token: str, info: dict, table, kind: str, *, back: str, done: str):
    """The column-matching step of an upload (imports and reconciliation): a redirect to
    ``done`` once a valid mapping is saved (and remembered), to ``back`` when the file cannot
    be read, else the template context (form, table, sample, remembered, errors)."""
    try:
        sample = table.sample(SAMPLE_ROWS)
    except FileProblem as exc:
        flash(exc.message, "danger")
        return redirect(back)
    preset, was_remembered = suggest(kind, table.headers)
    form = mapping_form(kind, table.headers, info.get("mapping") or preset)
    errors = []
    if form.validate_on_submit():
        mapping = [form[f"col_{i}"].data or "" for i in range(len(table.headers))]
        errors = problems(kind, mapping)
        if not errors:
            import_jobs.set_mapping(token, info, mapping)
            remember(kind, table.headers, mapping)
            db.session.commit()
            return redirect(done)
    return {"form": form, "table": table, "sample": sample, "remembered": was_remembered,
            "errors": errors}


@bp.route("/imports/<token>/preview")
@require_permission(MANAGE)
def imports_preview(token: str):
    """Step 3: the first rows as they will be read, with each row's outcome or problems."""
    info, table = _upload(token)
    kind, mapping = info["kind"], info.get("mapping")
    if not mapping:
        return redirect(url_for("accounting_link.imports_mapping", token=token))
    problem, rows = None, []
    try:
        columns = [(t, i, table.headers[i] or str(i + 1)) for i, t in enumerate(mapping) if t]
        rows = [read_row(kind, line, {t: (name, values[i]) for t, i, name in columns})
                for line, values in table.sample(PREVIEW_ROWS)]
        outcomes = {id(entry[0]): entry[1] for entry in HANDLERS[kind][0](rows)}
    except FileProblem as exc:
        problem, outcomes = exc, {}
    finally:
        db.session.rollback()
    names = labels(kind)
    targets = [t for t in mapping if t]
    return render_template(
        "accounting_link/imports_preview.html", info=info, kind=kind,
        kind_label=KIND_LABELS[kind], rows=[(r, outcomes.get(id(r))) for r in rows],
        targets=[(t, names[t]) for t in targets], problem=problem, form=RunForm(),
        token=token, active="imports", step=3)


@bp.route("/imports/<token>/run", methods=["POST"])
@require_permission(MANAGE)
def imports_run(token: str):
    """Start the import (or, with ``dry_run``, a trial that writes nothing) as a job."""
    info, _table = _upload(token)
    if not RunForm().validate_on_submit() or not info.get("mapping"):
        abort(400)
    dry_run = request.form.get("dry_run") == "1"
    job_id = JobProgress.create(importer.JOB_KIND, created_by=current_user.id).id
    jobs.enqueue(importer.import_job, token, job_id=job_id, dry_run=dry_run,
                 user_id=current_user.id, locale=current_locale())
    db.session.commit()
    return redirect(url_for("accounting_link.imports_job", job_id=job_id))


@bp.route("/imports/settlements-url", methods=["POST"])
@require_permission(MANAGE)
def imports_url():
    """Save the URL the settlements are pulled from (empty: no pulling)."""
    form = UrlForm()
    if form.validate_on_submit():
        set_setting(importer.URL_SETTING, (form.url.data or "").strip())
        db.session.commit()
        flash(_("The settlements URL is saved."), "success")
    else:
        for error in form.url.errors:
            flash(error, "danger")
    return redirect(url_for("accounting_link.imports"))


@bp.route("/imports/pull", methods=["POST"])
@require_permission(MANAGE)
def imports_pull():
    """Pull the settlements from the URL now, as a job."""
    if not RunForm().validate_on_submit():
        abort(400)
    if not (get_setting(importer.URL_SETTING) or "").strip():
        flash(_("Save the settlements URL first."), "warning")
        return redirect(url_for("accounting_link.imports"))
    job_id = JobProgress.create(importer.PULL_KIND, created_by=current_user.id).id
    jobs.enqueue(importer.pull_settlements, job_id=job_id, user_id=current_user.id,
                 locale=current_locale(), dry_run=request.form.get("dry_run") == "1")
    db.session.commit()
    return redirect(url_for("accounting_link.imports_job", job_id=job_id))


@bp.route("/imports/jobs/<int:job_id>")
@require_permission(MANAGE)
def imports_job(job_id: int):
    """Step 4: the import's progress, then what it did and every row's problems."""
    job = _job(job_id)
    return render_template("accounting_link/imports_job.html", job=job, form=RunForm(),
                           active="imports", step=4, **_outcome(job))


@bp.route("/imports/jobs/<int:job_id>/status")
@require_permission(MANAGE)
def imports_status(job_id: int):
    """The progress bar (htmx polls it), with the outcome once the job is over."""
    job = _job(job_id)
    return render_template("accounting_link/imports_status.html", job=job, form=RunForm(),
                           **_outcome(job))


def _outcome(job: JobRecord) -> dict:
    result = job.result or {}
    token = result.get("token")
    info = import_jobs.upload_info(token) if token else None
    can_run = bool(info and info["user_id"] == current_user.id and info.get("mapping")
                   and not result.get("rejected"))
    return {"result": result, "token": token if can_run else None,
            "kind_label": KIND_LABELS.get(result.get("kind") or "", "")}


@bp.route("/imports/jobs/<int:job_id>/errors.csv")
@require_permission(MANAGE)
def imports_errors(job_id: int):
    """Every problem the import found (line, column, message) as CSV."""
    job = _job(job_id)
    errors = (job.result or {}).get("errors") or []
    if not errors:
        abort(404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Line"), _("Column"), _("Problem")])
    writer.writerows(errors)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=import-problems-{job.id}.csv"})
