"""Imports back from the accounting package: customers, past sales and payment settlements.

    result = run_file("sales", path, mapping, by=user, dry_run=False, progress=report)

1. The file (CSV or XLSX, read by ``core.customers.import_parse``) is checked whole: a
   broken file raises ``FileProblem`` before anything is read into the database.
2. Every row is read and checked (``import_fields``), then resolved against the database
   (``import_writers.plan_*``): unknown customers or invoices, repeated documents, amounts
   above what is owed... each problem is reported with its line, column and reason in the
   language of whoever started the import.
3. Only when every row is good (and it is not a dry run) the plan is written, in one
   transaction: a file with one bad row writes nothing.

Settlements also come over REST: ``pull_settlements`` (a job, also periodic) GETs the URL in
the setting ``accounting_link.settlements.url``, which answers a JSON list of objects with
``invoice``, ``amount``, ``date``, ``method`` and ``reference`` (or ``{"settlements": [...]}``).
"""

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _

from core import audit
from core.customers import import_jobs
from core.customers.import_parse import FileProblem, open_table
from core.database import get_setting, set_setting, utcnow
from core.extensions import db
from core.jobs.progress import JobProgress
from modules.accounting_link.import_fields import (
    IMPORT_KINDS,
    Row,
    problems,
    read_row,
    suggest,
)
from modules.accounting_link.import_writers import HANDLERS, RowFailed

JOB_KIND = "accounting_link.import"
PULL_KIND = "accounting_link.pull"
URL_SETTING = "accounting_link.settlements.url"
LAST_PULL_SETTING = "accounting_link.settlements.last_pull"
ERRORS_KEPT = 500
PROGRESS_EVERY = 200
PULL_TIMEOUT = 15


@dataclass
class ImportResult:
    """What an import did (or, in a dry run or with errors, would have done)."""

    kind: str = ""
    file: str = ""
    dry_run: bool = False
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    written: bool = False
    errors: list = field(default_factory=list)  # [line, column, message]

    def as_dict(self) -> dict:
        return asdict(self)


def read_file(kind: str, path: str | Path, mapping: list[str] | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[Row]:
    """Every row of the file read and checked with ``mapping`` (or the suggested one).

    Raises ``FileProblem`` when the file or the mapping is unusable.
    """
    table = open_table(path)
    if mapping is None:
        mapping, _remembered = suggest(kind, table.headers)
    if len(mapping) != len(table.headers):
        raise FileProblem(_("The mapping has %(n)d columns but the file has %(m)d.",
                            n=len(mapping), m=len(table.headers)))
    errors = problems(kind, mapping)
    if errors:
        raise FileProblem(" ".join(errors))
    total = table.check()
    if progress is not None:
        progress(0, total)
    plan = [(target, index, table.headers[index] or _("Column %(n)d", n=index + 1))
            for index, target in enumerate(mapping) if target]
    rows = []
    for line, values in table.rows():
        rows.append(read_row(kind, line, {t: (name, values[i]) for t, i, name in plan}))
        if progress is not None and len(rows) % PROGRESS_EVERY == 0:
            progress(len(rows), total)
    return rows


def process(kind: str, rows: list[Row], *, by=None, dry_run: bool = False, name: str = "",
            source: str = "file") -> ImportResult:
    """Resolve the rows and, when all are good and it is not a dry run, write them (commits).

    Whatever happens nothing is half-written: a problem found while writing rolls the
    whole import back and is reported on its row.
    """
    plan_rows, apply_plan = HANDLERS[kind]
    result = ImportResult(kind=kind, file=name, dry_run=dry_run, total=len(rows))
    plan = plan_rows(rows)
    _count(result, rows, plan)
    if result.rejected or dry_run:
        db.session.rollback()
        return result
    try:
        apply_plan(plan, by=by, source=source)
    except RowFailed as exc:
        db.session.rollback()
        exc.row.fail(exc.target, exc.message)
        _count(result, rows, [])
        return result
    summary = {k: v for k, v in result.as_dict().items() if k not in ("errors", "dry_run")}
    audit.record(f"accounting_link.import.{kind}", target=name, detail=summary,
                 user_id=getattr(by, "id", None))
    db.session.commit()
    result.written = True
    return result


def _count(result: ImportResult, rows: list[Row], plan) -> None:
    result.created = result.updated = result.unchanged = 0
    for entry in plan:
        outcome = entry[1]
        setattr(result, outcome, getattr(result, outcome) + 1)
    bad = [row for row in rows if row.errors]
    result.rejected = len(bad)
    result.errors = [[row.line, column, message] for row in bad
                     for column, message in row.errors][:ERRORS_KEPT]


def run_file(kind: str, path: str | Path, mapping: list[str] | None = None, *, by=None,
             dry_run: bool = False, progress: Callable[[int, int], None] | None = None,
             name: str | None = None) -> ImportResult:
    """Import (or try) one file of ``kind``; see the module docstring."""
    if kind not in IMPORT_KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    rows = read_file(kind, path, mapping, progress)
    return process(kind, rows, by=by, dry_run=dry_run, name=name or Path(path).name)


# --- the background job --------------------------------------------------------------------

def import_job(token: str, *, job_id: int, dry_run: bool = False, user_id: int | None = None,
               locale: str = "fa") -> dict | None:
    """The job: import (or try) the upload ``token`` with its kind and mapping."""
    from core.auth.models import User

    progress = JobProgress.get(job_id)
    with force_locale(locale):
        progress.start(message=_("Checking the file"))
        info = import_jobs.upload_info(token)
        if info is None or info.get("kind") not in IMPORT_KINDS:
            progress.fail(_("The uploaded file is no longer there; upload it again."))
            return None
        by = db.session.get(User, user_id) if user_id else None

        def report(done: int, total: int) -> None:
            progress.record.total = total
            progress.record.done = done
            progress.advance(0, message=_("Checking the rows"))

        try:
            rows = read_file(info["kind"], import_jobs.upload_path(token, info),
                             info.get("mapping"), report)
            progress.advance(0, message=_("Trying the import") if dry_run else _("Importing"))
            result = process(info["kind"], rows, by=by, dry_run=dry_run, name=info["name"])
        except FileProblem as exc:
            progress.fail(exc.message, result={"problem": exc.message, "line": exc.line,
                                               "dry_run": dry_run, "token": token,
                                               "kind": info["kind"]})
            return None
        except Exception as exc:
            progress.fail(_("The import stopped: %(error)s", error=str(exc)),
                          result={"dry_run": dry_run, "token": token, "kind": info["kind"]})
            raise
        outcome = {**result.as_dict(), "token": token}
        progress.record.done = progress.record.total or len(rows)
        if result.rejected:
            message = _("Nothing was written: correct the rows listed and upload the file "
                        "again.")
        elif dry_run:
            message = _("Nothing was written: this was a trial run.")
        else:
            message = _("The import is finished.")
        progress.finish(result=outcome, message=message)
    if result.written:
        import_jobs.discard_upload(token)
    return outcome


# --- settlements over REST -----------------------------------------------------------------

class PullProblem(ValueError):
    """The settlements URL could not be read (nothing was written)."""


def fetch_settlement_rows(url: str) -> list[Row]:
    """GET the URL and read its JSON rows as settlement rows (line = position, from 1)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PullProblem(_("The settlements URL must start with http:// or https://."))
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        # the scheme is checked above: only http(s), never file: or custom schemes
        with urllib.request.urlopen(request, timeout=PULL_TIMEOUT) as response:  # nosec B310
            data = json.loads(response.read().decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise PullProblem(_("The settlements could not be fetched from %(url)s: %(reason)s",
                            url=url, reason=getattr(exc, "reason", exc))) from exc
    if isinstance(data, dict):
        data = data.get("settlements")
    if not isinstance(data, list):
        raise PullProblem(_("The settlements URL did not answer a list of settlements."))
    rows = []
    for index, item in enumerate(data, start=1):
        item = item if isinstance(item, dict) else {}
        cells = {target: (target, item.get(target)) for target in
                 ("invoice", "amount", "date", "method", "reference")}
        cells = {t: (c, "" if v is None else str(v)) for t, (c, v) in cells.items()}
        rows.append(read_row("settlements", index, cells))
    return rows


def pull_settlements(job_id: int | None = None, user_id: int | None = None,
                     locale: str = "fa", dry_run: bool = False) -> dict | None:
    """The job: pull the settlements from the configured URL and apply the new ones."""
    from core.auth.models import User

    url = (get_setting(URL_SETTING) or "").strip()
    progress = JobProgress.get(job_id) if job_id else None
    with force_locale(locale):
        if progress is not None:
            progress.start(message=_("Fetching the settlements"))
        if not url:
            message = _("No settlements URL is configured.")
            if progress is not None:
                progress.fail(message)
            return None
        try:
            rows = fetch_settlement_rows(url)
        except PullProblem as exc:
            _remember_pull({"problem": str(exc)})
            if progress is not None:
                progress.fail(str(exc), result={"problem": str(exc), "kind": "settlements"})
            return None
        by = db.session.get(User, user_id) if user_id else None
        result = process("settlements", rows, by=by, dry_run=dry_run, name=url,
                         source="rest")
        outcome = result.as_dict()
        _remember_pull(outcome)
        if progress is not None:
            progress.record.total = progress.record.done = len(rows)
            progress.finish(result=outcome, message=_("Nothing was written: correct the rows "
                                                      "listed at the source.")
                            if result.rejected else _("The settlements are pulled."))
    return outcome


def _remember_pull(outcome: dict) -> None:
    set_setting(LAST_PULL_SETTING, {**{k: v for k, v in outcome.items() if k != "errors"},
                                    "errors": (outcome.get("errors") or [])[:20],
                                    "at": utcnow().isoformat()})
    db.session.commit()


def periodic_pull() -> dict | None:
    """The hourly job: pull settlements when a URL is configured (quietly does nothing else)."""
    from core.modules import is_active

    if not is_active("accounting_link") or not (get_setting(URL_SETTING) or "").strip():
        return None
    return pull_settlements()


def register(app) -> None:
    from core import jobs

    jobs.periodic("accounting_link.pull_settlements", 3600, periodic_pull)
