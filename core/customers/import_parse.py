"""Reading a customer import file, streamed: CSV (UTF-8 with or without BOM, UTF-16 as Excel
saves "Unicode text", Windows-1256) or XLSX (openpyxl, read-only).

    table = open_table(path)        # the format, encoding, delimiter and the header
    table.check()                   # reads the whole file once: rows, or FileProblem
    for line, values in table.rows(): ...

Line numbers are the file's own: the header is line 1 (in a CSV a value with a line break
inside quotes makes the next record start further down). A broken file (bytes that are not
text in its encoding, a row with more or fewer values than the header, an unclosed quote, a
damaged workbook) raises ``FileProblem`` naming the line, so that nothing is imported from it.
"""

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from flask_babel import gettext as _

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_PERSIAN_TEXT = re.compile(r"[\u0600-\u06ff\u200c«»]")


class FileProblem(ValueError):
    """The file itself cannot be imported; ``line`` says where (None: the whole file)."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(message)


@dataclass
class Table:
    """An import file: its format, encoding, delimiter and header (the first non-blank row)."""

    path: Path
    format: str  # "csv" or "xlsx"
    encoding: str | None = None
    delimiter: str = ","
    headers: list[str] = field(default_factory=list)
    header_line: int = 1

    def rows(self) -> Iterator[tuple[int, list]]:
        """``(line, values)`` of every data row, one value per header; blank rows skipped."""
        records = self._records()
        for line, _cells in records:
            if line >= self.header_line:
                break
        width = len(self.headers)
        text = self.format == "csv"
        for line, cells in records:
            if text and len(cells) == width:  # the common case, kept quick
                joined = "".join(cells)
                if joined and not joined.isspace():
                    yield line, cells
                continue
            if not any(_filled(c) for c in cells):
                continue
            if len(cells) > width and not any(_filled(c) for c in cells[width:]):
                cells = cells[:width]
            elif len(cells) < width and not text:
                cells = list(cells) + [""] * (width - len(cells))
            if len(cells) != width:
                raise FileProblem(_("Line %(line)d has %(found)d values but the first line "
                                    "names %(width)d columns. Check for a missing or extra "
                                    "separator (%(sep)s) or an unquoted value.",
                                    line=line, found=len(cells), width=width,
                                    sep=_delimiter_name(self.delimiter)), line)
            yield line, cells

    def check(self) -> int:
        """Read the whole file once; the number of data rows, or ``FileProblem``."""
        count = sum(1 for _row in self.rows())
        if count == 0:
            raise FileProblem(_("The file has column names but no rows to import."))
        return count

    def sample(self, n: int) -> list[tuple[int, list]]:
        """The first ``n`` data rows (for the mapping and preview pages)."""
        found = []
        for row in self.rows():
            found.append(row)
            if len(found) >= n:
                break
        return found

    def _records(self) -> Iterator[tuple[int, list]]:
        return _xlsx_records(self.path) if self.format == "xlsx" else _csv_records(self)


def open_table(path: str | Path, encoding: str | None = None) -> Table:
    """The file's format and header, or ``FileProblem`` saying what is wrong with it."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise FileProblem(_("The file cannot be read: %(reason)s", reason=exc.strerror)) from exc
    if not head.strip():
        raise FileProblem(_("The file is empty."))
    if head.startswith(XLS_MAGIC):
        raise FileProblem(_("Old Excel files (.xls) cannot be read; save the sheet as "
                            "Excel workbook (.xlsx) or CSV UTF-8 and try again."))
    if head.startswith(XLSX_MAGIC):
        table = Table(path, "xlsx")
    else:
        table = Table(path, "csv", encoding or sniff_encoding(head))
        table.delimiter = _sniff_delimiter(head, table.encoding)
    for line, cells in table._records():
        if any(_filled(c) for c in cells):
            table.header_line = line
            table.headers = [cell_text(c).strip() for c in cells]
            break
    else:
        raise FileProblem(_("The file is empty."))
    while table.headers and not table.headers[-1]:
        table.headers.pop()
    _check_header(table)
    return table


def _check_header(table: Table) -> None:
    from core.validators import canonical_mobile

    for value in table.headers:
        looks_like_data = "@" in value
        try:
            canonical_mobile(value)
            looks_like_data = True
        except ValueError:
            pass
        if looks_like_data:
            raise FileProblem(_("Line %(line)d should name the columns (first name, mobile, "
                                "...), but it holds data such as %(value)s. Add a line of "
                                "column names at the top.", line=table.header_line,
                                value=value), table.header_line)


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 or Windows-1256 from the file's first bytes."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head[1:200:2].count(0) > 50 and b"\x00" not in head[0:200:2]:
        return "utf-16-le"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    text = head.decode("cp1256", errors="replace")
    other = [c for c in text if ord(c) > 127]
    persian = sum(1 for c in other if _PERSIAN_TEXT.match(c))
    if other and persian >= 0.9 * len(other):
        return "cp1256"
    return "utf-8"  # the reader says which line is not UTF-8


def _sniff_delimiter(head: bytes, encoding: str) -> str:
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _delimiter_name(delimiter: str) -> str:
    return {"\t": _("tab"), ",": ",", ";": ";", "|": "|"}[delimiter]


def _bad_bytes(path: Path, encoding: str, near: int) -> FileProblem:
    """Where the first bytes that are not ``encoding`` text are (line and character)."""
    if encoding.startswith("utf-16"):
        return _not_text(near, encoding)
    base = "utf-8" if encoding == "utf-8-sig" else encoding
    with open(path, "rb") as raw:
        for line, chunk in enumerate(raw, start=1):
            try:
                chunk.decode(base)
            except UnicodeDecodeError as exc:
                return _not_text(line, encoding, exc.start + 1)
    return _not_text(near, encoding)


def _not_text(line: int, encoding: str, column: int | None = None) -> FileProblem:
    name = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1256": "Windows-1256"}.get(
        encoding, "UTF-16")
    where = (_("Line %(line)d, character %(column)d,", line=line, column=column) if column
             else _("Line %(line)d", line=line))
    return FileProblem(_("%(where)s is not %(encoding)s text. Save the file as \"CSV UTF-8\" "
                         "(or Excel workbook) and try again.", where=where, encoding=name), line)


def _csv_records(table: Table) -> Iterator[tuple[int, list]]:
    with open(table.path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=table.encoding, newline="")
        reader = csv.reader(text, delimiter=table.delimiter, strict=True)
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as exc:
            raise FileProblem(_("Line %(line)d cannot be read (%(reason)s); look for a quote "
                                "that is never closed.", line=start, reason=str(exc)),
                              start) from exc
        except UnicodeDecodeError as exc:
            raise _bad_bytes(table.path, table.encoding, start) from exc


def _xlsx_records(path: Path) -> Iterator[tuple[int, list]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    broken = (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError,
              SyntaxError, EOFError, zlib.error, OSError)
    line = 0
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except broken as exc:
        raise FileProblem(_("This is not a valid Excel workbook (.xlsx): %(reason)s",
                            reason=exc.__class__.__name__)) from exc
    try:
        for line, values in enumerate(book.active.iter_rows(min_row=1, values_only=True),
                                      start=1):
            yield line, [_cell(v) for v in values]
    except broken as exc:
        raise FileProblem(_("The workbook is damaged near line %(line)d: %(reason)s",
                            line=line + 1, reason=exc.__class__.__name__), line + 1) from exc
    finally:
        book.close()


def _cell(value):
    """An XLSX cell as the importer wants it: text, or a date for date cells."""
    if value is None:
        return ""
    if isinstance(value, str | bool | date):
        if isinstance(value, datetime) and value.time() == datetime.min.time():
            return value.date()
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _filled(value) -> bool:
    return value.strip() != "" if isinstance(value, str) else value is not None


def cell_text(value) -> str:
    """A cell as text (dates as YYYY-MM-DD), for headers and the rejected-rows report."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


