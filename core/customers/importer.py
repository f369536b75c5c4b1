"""Customer import from CSV or XLSX: the one code path the UI job, the CLI and the bench use.

    result = run_import(path, mapping, by=user, dry_run=False, report=path_for_rejected_rows,
                        progress=lambda done, total: ...)

1. ``open_table`` reads the header and ``check()`` reads the whole file once: a broken file
   (not text, ragged rows, damaged workbook) raises ``FileProblem`` before anything is written.
2. Rows are read again, streamed, normalised and checked (``import_rows``), and written in
   batches of ``BATCH`` (``import_write``): each batch commits, so memory stays flat.
3. Rejected rows go to ``report`` (CSV: line, the row's values, the reason, in the current
   language); the import is audited once (``customers.import``) and each batch emits
   ``customers_imported`` with the ids it created and updated.

``dry_run`` resolves every row the same way and writes nothing.
"""

import csv
import gc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from flask_babel import gettext as _

from core import audit
from core.customers.import_mapping import problems, suggest
from core.customers.import_parse import FileProblem, Table, cell_text, open_table
from core.customers.import_rows import RowReader
from core.customers.import_write import BatchWriter
from core.events import emit, signals
from core.extensions import db

BATCH = 1000
ERRORS_KEPT = 200  # rejected rows kept in the result for the page and the terminal
customers_imported = signals.signal("customers_imported")


@dataclass
class ImportResult:
    """What an import did (or, in a dry run, would do)."""

    file: str = ""
    dry_run: bool = False
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list = field(default_factory=list)  # [line, reason] of the first rejected rows

    def as_dict(self) -> dict:
        return asdict(self)


class RejectedReport:
    """The rejected rows as CSV (UTF-8 with BOM): line, the original values, the reason."""

    def __init__(self, path: Path, headers: list[str]):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(path, "w", newline="", encoding="utf-8-sig")  # noqa: SIM115
        self.writer = csv.writer(self.handle)
        self.writer.writerow([_("Line"), *headers, _("Reason")])

    def add(self, line: int, values: list, reason: str) -> None:
        self.writer.writerow([line, *(cell_text(v) for v in values), reason])

    def close(self) -> None:
        self.handle.close()


def prepare(path: str | Path, mapping: list[str] | None = None,
            encoding: str | None = None) -> tuple[Table, list[str]]:
    """The file's table and the mapping to use (given, remembered or guessed), checked."""
    table = open_table(path, encoding)
    if mapping is None:
        mapping, _remembered = suggest(table.headers)
    if len(mapping) != len(table.headers):
        raise FileProblem(_("The mapping has %(n)d columns but the file has %(m)d.",
                            n=len(mapping), m=len(table.headers)))
    errors = problems(mapping)
    if errors:
        raise FileProblem(" ".join(errors))
    return table, mapping


def run_import(path: str | Path, mapping: list[str] | None = None, *, by=None,
               dry_run: bool = False, report: str | Path | None = None,
               progress: Callable[[int, int], None] | None = None, batch_size: int = BATCH,
               encoding: str | None = None, name: str | None = None) -> ImportResult:
    """Import customers from ``path`` (see the module docstring); commits batch by batch.

    ``by`` (a User) owns the new customers and limits matching to the records they may
    change; ``progress(done, total)`` is called once the file is checked and after each batch.
    Raises ``FileProblem`` (nothing written) when the file or the mapping is unusable.
    """
    table, mapping = prepare(path, mapping, encoding)
    result = ImportResult(file=name or Path(path).name, dry_run=dry_run)
    total = table.check()
    if progress is not None:
        progress(0, total)
    read = RowReader(mapping)
    writer = BatchWriter(by=by, dry_run=dry_run)
    rejected = RejectedReport(Path(report), table.headers) if report else None
    batch = []
    collecting = gc.isenabled()
    gc.disable()  # rows make no reference cycles; full collections cost a fifth of the time
    try:
        for line, values in table.rows():
            batch.append(read(line, values))
            if len(batch) >= batch_size:
                _flush(writer, batch, result, rejected, progress, total)
                batch = []
        _flush(writer, batch, result, rejected, progress, total)
    finally:
        if collecting:
            gc.enable()
        writer.close()
        if rejected is not None:
            rejected.close()
    if not dry_run:
        summary = {k: v for k, v in result.as_dict().items() if k not in ("errors", "dry_run")}
        audit.record("customers.import", target=result.file, detail=summary,
                     user_id=getattr(by, "id", None))
        db.session.commit()
    return result


def _flush(writer: BatchWriter, batch: list, result: ImportResult, rejected, progress,
           total: int) -> None:
    """Write the batch's good records; count and report every record in file order."""
    good = [r for r in batch if not r.errors]
    outcomes = {id(r): outcome for r, outcome in writer.write(good)} if good else {}
    for record in batch:
        outcome = outcomes.get(id(record)) or record.reason()
        if outcome in ("created", "updated", "unchanged"):
            setattr(result, outcome, getattr(result, outcome) + 1)
        else:
            _reject(result, rejected, record.line, record.values, outcome)
    if good and (writer.created_ids or writer.updated_ids):
        emit(customers_imported, created=writer.created_ids, updated=writer.updated_ids,
             source="import")
    if good and not writer.dry_run:
        db.session.commit()
    result.total = result.created + result.updated + result.unchanged + result.rejected
    if progress is not None:
        progress(result.total, total)


def _reject(result: ImportResult, report, line: int, values: list, reason: str) -> None:
    """Count a rejected row, keep the first ones for the summary, add it to the report."""
    result.rejected += 1
    if len(result.errors) < ERRORS_KEPT:
        result.errors.append([line, reason])
    if report is not None:
        report.add(line, values, reason)
