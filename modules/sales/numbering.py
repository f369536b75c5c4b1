"""Gapless document numbers: 1, 2, 3 … per kind of document and Jalali fiscal year.

The number is taken in the same transaction that posts the document, by incrementing one
row of ``sales_number_sequence`` (kind, fiscal year). That row stays locked until the
transaction ends, so concurrent postings take numbers one after another; a posting that
rolls back gives its number back with it. Hence no gaps and no duplicates.

- PostgreSQL: ``UPDATE … SET last_number = last_number + 1 RETURNING`` takes a row lock on
  the sequence row; other postings of the same kind and year wait for the commit.
- SQLite: the first write of a transaction takes the database's write lock, so
  ``begin_numbering()`` writes first (a ``core.database.lock`` row) before anything is read.
  Web requests that write already start with ``BEGIN IMMEDIATE``. Code outside a request
  must call ``begin_numbering()`` (``post_invoice`` does) at the start of a transaction:
  a transaction that read first and then writes after another posting committed is refused
  by SQLite with "database is locked".
"""

from sqlalchemy import select, update

from core.database import lock
from core.extensions import db
from core.i18n import fiscal_year_of, local_date
from modules.sales.models.documents import NumberSequence

KINDS = ("invoice", "credit_note", "quote", "order")
LOCK_NAME = "sales.numbering"


def begin_numbering() -> None:
    """Serialise with other postings before reading anything (needed on SQLite only)."""
    if db.session.get_bind().dialect.name == "sqlite":
        lock(LOCK_NAME)


def fiscal_year_for(day) -> int:
    """The Jalali fiscal year (setting ``fiscal.year_start_month``) of a date or UTC time."""
    return fiscal_year_of(local_date(day))


def next_number(kind: str, fiscal_year: int) -> int:
    """The next number of ``kind`` in ``fiscal_year``, reserved until the transaction ends."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r}")
    table = NumberSequence.__table__
    bump = (update(table)
            .where(table.c.kind == kind, table.c.fiscal_year == fiscal_year)
            .values(last_number=table.c.last_number + 1)
            .returning(table.c.last_number))
    number = db.session.execute(bump).scalar()
    if number is None:
        # The first number of the year: two postings may both create the row; ON CONFLICT
        # makes the second wait for the first and then take the next number after it.
        if db.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(table).values(kind=kind, fiscal_year=fiscal_year,
                                                last_number=0).on_conflict_do_nothing())
        number = db.session.execute(bump).scalar()
    return number


def last_number(kind: str, fiscal_year: int) -> int:
    """The last number given (0 when none yet)."""
    found = db.session.execute(select(NumberSequence.last_number).where(
        NumberSequence.kind == kind, NumberSequence.fiscal_year == fiscal_year)).scalar()
    return found or 0
