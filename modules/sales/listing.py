"""Helpers of the sales list pages: pages of plain rows instead of ORM objects.

A list page only shows its rows, so it selects the columns it draws (joined names
included) rather than loading whole objects and their relationships row by row.
"""

from collections import namedtuple
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Select

from core.pagination import Page
from modules.sales.models.documents import document_reference


@lru_cache(maxsize=64)
def _row_type(names: tuple[str, ...]):
    return namedtuple("ListRow", names)


def named_rows(page: Page, stmt: Select, row=None) -> Page:
    """``page`` (from ``request_page(stmt, ...)``) with its rows' columns reachable by name
    (``row.title``): the keyset page keeps only the values of a multi-column select.
    ``row``: the row type (a ``NamedTuple`` with the statement's columns in order)."""
    row = row or _row_type(tuple(c["name"] for c in stmt.column_descriptions))
    page.items = [row._make(values) for values in page.items]
    return page


class InvoiceRow(NamedTuple):
    """One row of the invoice list; ``posted`` and ``reference`` as on ``Invoice``, so
    ``invoices.title`` and ``receivables.balances`` take it too."""

    id: int
    kind: str
    status: str
    fiscal_year: int | None
    number: int | None
    original_id: int | None
    issue_date: date | None
    created_at: datetime
    total: int
    customer_name: str

    @property
    def posted(self) -> bool:
        return self.status == "posted"

    @property
    def reference(self) -> str:
        return document_reference(self.fiscal_year, self.number)

    @classmethod
    def columns(cls, model, customer) -> list:
        return [*(getattr(model, name) for name in cls._fields[:-1]),
                customer.display_name.label("customer_name")]
