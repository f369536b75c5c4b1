"""``flask crm import customers FILE``: the import of the UI, in a terminal."""

import csv
import sys
import tempfile
from pathlib import Path

import click
from sqlalchemy import select

from core.cli import import_cli

ERRORS_SHOWN = 1000


class _Bar:
    """A click progress bar on stderr, started once the file is checked and its size known."""

    def __init__(self, label: str):
        self.label = label
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr,
                                         show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@import_cli.command("customers")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and count; write nothing.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rejected rows (line, values, reason) to this CSV file.")
@click.option("--owner", metavar="EMAIL",
              help="The user who owns new customers; matching stays within their records.")
@click.option("--encoding", help="The CSV's encoding if not guessed right: utf-8, utf-16, cp1256.")
def import_customers_command(file, dry_run, report, owner, encoding):
    """Import customers from a CSV or XLSX file (columns matched by name, as last mapped)."""
    from core.auth.models import User
    from core.customers.import_mapping import choices
    from core.customers.import_parse import FileProblem
    from core.customers.importer import prepare, run_import
    from core.extensions import db

    by = None
    if owner:
        by = db.session.execute(select(User).where(User.email == owner.strip().lower())).scalar()
        if by is None:
            raise click.ClickException(f"There is no user {owner}.")
    try:
        table, mapping = prepare(file, encoding=encoding)
    except FileProblem as exc:
        raise click.ClickException(f"{file.name}: {exc.message}") from exc
    labels = dict(choices())
    for header, target in zip(table.headers, mapping, strict=True):
        click.echo(f"  {header} -> {labels[target] if target else '(left out)'}", err=True)
    with tempfile.TemporaryDirectory() as tmp:
        rejected = report or Path(tmp) / "rejected.csv"
        bar = _Bar("Checking and importing" if not dry_run else "Trying (nothing is written)")
        try:
            result = run_import(file, mapping, by=by, dry_run=dry_run, report=rejected,
                                progress=bar, encoding=encoding)
        except FileProblem as exc:
            raise click.ClickException(
                f"{file.name}: {exc.message} Nothing was imported.") from exc
        finally:
            bar.close()
        _print_rejected(rejected, result.rejected, report)
    verb = "would be" if dry_run else "were"
    click.echo(f"{result.total} rows: {result.created} customers {verb} created, "
               f"{result.updated} updated, {result.unchanged} already up to date, "
               f"{result.rejected} rows rejected." + (" Nothing was written (dry run)."
                                                      if dry_run else ""))


def _print_rejected(path: Path, count: int, report: Path | None) -> None:
    if not count:
        return
    click.echo("Rejected rows:")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = csv.reader(handle)
        next(rows)
        for shown, row in enumerate(rows):
            if shown >= ERRORS_SHOWN:
                more = count - ERRORS_SHOWN
                where = f"see {report}" if report else "use --report FILE to get them all"
                click.echo(f"  ... and {more} more ({where}).")
                break
            click.echo(f"  line {row[0]}: {row[-1]}")
    if report:
        click.echo(f"The rejected rows are in {report}.")
