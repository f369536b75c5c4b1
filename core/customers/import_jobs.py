"""The customer import as a background job, and the files it keeps under the upload folder.

An upload is stored as ``imports/<token>.<ext>`` with ``<token>.json`` beside it (who uploaded
it, its name, the chosen mapping); the rejected rows of job N go to
``imports/job-N-rejected.csv``. Files older than a week are removed on the next upload.
"""

import json
import re
import time
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from core import jobs
from core.customers.import_parse import FileProblem
from core.customers.importer import run_import
from core.extensions import db
from core.jobs.progress import JobProgress

KIND = "customers.import"
KEEP_SECONDS = 7 * 24 * 3600
EXTENSIONS = ("csv", "txt", "tsv", "xlsx")
_TOKEN = re.compile(r"[0-9a-f]{32}")


def imports_dir() -> Path:
    path = Path(current_app.config["CRM_UPLOAD_DIR"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(storage, user_id: int) -> str:
    """Store an uploaded file (werkzeug FileStorage, streamed to disk); returns its token."""
    _clean_old()
    name = Path(storage.filename or "customers.csv").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else "csv"
    token = uuid.uuid4().hex
    storage.save(imports_dir() / f"{token}.{ext if ext in EXTENSIONS else 'csv'}")
    _write_info(token, {"user_id": user_id, "name": name, "mapping": None,
                        "ext": ext if ext in EXTENSIONS else "csv"})
    return token


def upload_info(token: str) -> dict | None:
    """What was stored with an upload (user_id, name, ext, mapping), or None."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    path = imports_dir() / f"{token}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def upload_path(token: str, info: dict) -> Path:
    return imports_dir() / f"{token}.{info['ext']}"


def set_mapping(token: str, info: dict, mapping: list[str]) -> None:
    _write_info(token, {**info, "mapping": mapping})


def discard_upload(token: str) -> None:
    info = upload_info(token)
    if info is not None:
        upload_path(token, info).unlink(missing_ok=True)
        (imports_dir() / f"{token}.json").unlink(missing_ok=True)


def report_path(job_id: int) -> Path:
    """Where job ``job_id`` writes its rejected rows."""
    return imports_dir() / f"job-{int(job_id)}-rejected.csv"


def _write_info(token: str, info: dict) -> None:
    (imports_dir() / f"{token}.json").write_text(json.dumps(info, ensure_ascii=False),
                                                 encoding="utf-8")


def _clean_old() -> None:
    limit = time.time() - KEEP_SECONDS
    for path in imports_dir().iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


@jobs.restartable(times=2)
def import_customers(token: str, *, job_id: int, dry_run: bool = False,
                     user_id: int | None = None, locale: str = "fa") -> dict | None:
    """The job: import (or try) the upload ``token`` with its mapping, reporting progress.

    Messages and the rejected-rows report are in ``locale``, the language of who started it.
    The result (counts and the first rejected rows) lands on the job record.

    Safe to run again after a crash (a worker killed mid-import): each batch commits whole,
    the upload is kept until the end, and rows are matched by their keys (mobile, email,
    national code), so the rows already written come out "unchanged" and the rest are
    written once. RQ reruns it when its worker died (``restartable``).
    """
    from core.auth.models import User

    progress = JobProgress.get(job_id)
    with force_locale(locale):
        progress.start(message=_("Checking the file"))
        info = upload_info(token)
        if info is None:
            progress.fail(_("The uploaded file is no longer there; upload it again."))
            return None
        by = db.session.get(User, user_id) if user_id else None
        working = _("Trying the import") if dry_run else _("Importing")

        def report(done: int, total: int) -> None:
            progress.record.total = total
            progress.record.done = done
            progress.advance(0, message=working)

        try:
            result = run_import(upload_path(token, info), info.get("mapping"), by=by,
                                dry_run=dry_run, report=report_path(job_id), progress=report,
                                name=info["name"])
        except FileProblem as exc:
            progress.fail(exc.message, result={"problem": exc.message, "line": exc.line,
                                               "dry_run": dry_run, "token": token})
            return None
        except Exception as exc:
            progress.fail(_("The import stopped: %(error)s", error=str(exc)),
                          result={"dry_run": dry_run, "token": token})
            raise
        outcome = {**result.as_dict(), "token": token}
        message = (_("Nothing was written: this was a trial run.") if dry_run
                   else _("The import is finished."))
        progress.finish(result=outcome, message=message)
    if not dry_run:
        discard_upload(token)
    return outcome
