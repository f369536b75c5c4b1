"""Sales history import page: upload a purchase CSV, follow its progress, read the result."""

import uuid
from pathlib import Path

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField

from core import jobs
from core.analytics.history import HistoryFileError, check_file, import_history
from core.analytics.views import bp
from core.auth.permissions import require_permission
from core.extensions import db
from core.jobs.progress import JobProgress, JobRecord

KIND = "analytics.history_import"
REJECTS_KEPT = 1000


class HistoryForm(FlaskForm):
    """The purchase file and whether to only check it."""

    file = FileField(_l("Purchase file (CSV)"), validators=[
        FileRequired(_l("Choose a CSV file.")),
        FileAllowed(["csv", "txt"], _l("Choose a CSV file."))])
    dry_run = BooleanField(_l("Only check the file; record nothing"))


def import_history_job(path: str, job_id: int, dry_run: bool = False) -> None:
    """The job: check the whole file, then record its rows with progress; removes the file."""
    progress = JobProgress.get(job_id)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            total = check_file(handle)
        progress.start(total=total)
        with open(path, encoding="utf-8-sig", newline="") as handle:
            result = import_history(handle, dry_run=dry_run, on_progress=progress.advance)
        progress.finish(result={
            "dry_run": dry_run, "recorded": result.recorded, "already": result.already,
            "rejected_count": len(result.rejected), "rejected": result.rejected[:REJECTS_KEPT]})
    except HistoryFileError as exc:
        progress.fail(str(exc))
    finally:
        Path(path).unlink(missing_ok=True)


@bp.route("/history", methods=["GET", "POST"])
@require_permission("customers.import")
def history():
    """Upload a sales history; the purchases count in analytics."""
    form = HistoryForm()
    if form.validate_on_submit():
        folder = Path(current_app.config["CRM_UPLOAD_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"history-{uuid.uuid4().hex}.csv"
        form.file.data.save(path)
        job_id = JobProgress.create(KIND, created_by=current_user.id).id
        jobs.enqueue(import_history_job, str(path), job_id=job_id, dry_run=form.dry_run.data)
        db.session.commit()
        return redirect(url_for("analytics.history_job", job_id=job_id))
    return render_template("analytics/history.html", form=form, job=None)


@bp.route("/history/<int:job_id>")
@require_permission("customers.import")
def history_job(job_id: int):
    """An import's progress, then what it recorded and which lines it rejected and why."""
    job = db.session.get(JobRecord, job_id)
    if job is None or job.kind != KIND or job.created_by != current_user.id:
        abort(404)
    if request.headers.get("HX-Request"):
        return render_template("analytics/_history_job.html", job=job)
    return render_template("analytics/history.html", form=HistoryForm(), job=job)
