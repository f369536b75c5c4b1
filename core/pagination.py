"""Keyset pagination for SQLAlchemy 2 ``select()`` statements, with opaque signed tokens.

A page token holds the sort key of a boundary row (signed with the app secret, so a changed
token is refused with 400 instead of silently paging somewhere else). Every sort order must
end in a unique column (the primary key) so that rows with equal sort values keep a stable
order and no row is skipped or repeated between pages. Sort columns must not be NULL.

    page = keyset_page(select(Customer), [Customer.created_at.desc(), Customer.id.desc()],
                       after=request.args.get("after"), before=request.args.get("before"))
"""

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, and_, literal, or_, tuple_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from werkzeug.exceptions import BadRequest

from core.extensions import db

DEFAULT_SIZE = 25
MAX_SIZE = 200
_SALT = "crm.keyset-page"


class PageTokenError(BadRequest):
    """A page token that was changed, is malformed or belongs to another sort order."""


@dataclass
class Page:
    """One page of results and the opaque tokens that open its neighbours."""

    items: list
    next_token: str | None = None
    prev_token: str | None = None
    has_next: bool = False
    has_prev: bool = False
    size: int = DEFAULT_SIZE
    extra: dict = field(default_factory=dict)

    def __iter__(self) -> Iterator:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class _SortKey:
    column: Any
    descending: bool


def _sort_keys(sort_columns: Sequence) -> list[_SortKey]:
    keys = []
    for item in sort_columns:
        if isinstance(item, UnaryExpression) and item.modifier in (
            operators.desc_op, operators.asc_op
        ):
            keys.append(_SortKey(item.element, item.modifier is operators.desc_op))
        else:
            keys.append(_SortKey(item, False))
    if not keys:
        raise ValueError("keyset_page needs at least one sort column (end with the primary key)")
    return keys


def _fingerprint(keys: list[_SortKey]) -> str:
    spec = "|".join(f"{key.column}:{'d' if key.descending else 'a'}" for key in keys)
    return base64.urlsafe_b64encode(hashlib.sha256(spec.encode()).digest()[:6]).decode()


def _dump(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    raise TypeError(f"cannot put a {type(value).__name__} sort value into a page token")


def _load(value):
    if not isinstance(value, dict):
        return value
    (tag, text), = value.items()
    return {
        "t": dt.datetime.fromisoformat, "d": dt.date.fromisoformat,
        "n": Decimal, "u": uuid.UUID,
    }[tag](text)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def encode_token(keys: list[_SortKey], values: Sequence) -> str:
    """An opaque, signed token for the row whose sort key is ``values``."""
    return _serializer().dumps([_fingerprint(keys), [_dump(v) for v in values]])


def decode_token(keys: list[_SortKey], token: str) -> list:
    """The sort key inside ``token``; raises ``PageTokenError`` (400) when it is not ours."""
    try:
        fingerprint, values = _serializer().loads(token)
        if fingerprint != _fingerprint(keys) or len(values) != len(keys):
            raise ValueError("token is for another sort order")
        return [_load(v) for v in values]
    except (BadSignature, ValueError, TypeError, KeyError) as exc:
        raise PageTokenError(
            _("This page link is damaged or out of date. Go back to the first page.")
        ) from exc


def _after_condition(keys: list[_SortKey], values: list, reverse: bool):
    """Rows strictly after ``values`` in the order of ``keys`` (before it when ``reverse``)."""
    bound = [literal(v, k.column.type) for k, v in zip(keys, values, strict=True)]
    directions = {k.descending != reverse for k in keys}
    if len(directions) == 1:  # one direction: a row-value comparison an index can serve
        descending = directions.pop()
        if len(keys) == 1:
            column = keys[0].column
            return column < bound[0] if descending else column > bound[0]
        row = tuple_(*[k.column for k in keys])
        other = tuple_(*bound)
        return row < other if descending else row > other
    clauses = []
    for i, key in enumerate(keys):
        equal = [keys[j].column == bound[j] for j in range(i)]
        step = key.column < bound[i] if key.descending != reverse else key.column > bound[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def _ordering(keys: list[_SortKey], reverse: bool) -> list:
    return [k.column.desc() if k.descending != reverse else k.column.asc() for k in keys]


def keyset_page(stmt: Select, sort_columns: Sequence, after: str | None = None,
                before: str | None = None, size: int = DEFAULT_SIZE) -> Page:
    """The page of ``stmt`` after (or before) a token, ordered by ``sort_columns``.

    ``sort_columns`` are columns or ``column.desc()``; end with the primary key. Items are
    what ``stmt`` selects: objects for ``select(Model)``, else rows without the sort key.
    """
    keys = _sort_keys(sort_columns)
    size = max(1, min(int(size), MAX_SIZE))
    backward = before is not None and after is None
    token = before if backward else after
    query = stmt.order_by(None).order_by(*_ordering(keys, reverse=backward))
    if token:
        query = query.where(_after_condition(keys, decode_token(keys, token), reverse=backward))
    width = len(stmt.column_descriptions)
    query = query.add_columns(*[k.column.label(f"_keyset_{i}") for i, k in enumerate(keys)])
    rows = db.session.execute(query.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        if not rows:  # nothing before the token any more (rows deleted): start over
            return keyset_page(stmt, sort_columns, size=size)
        rows.reverse()
    items = [row[0] if width == 1 else row[:width] for row in rows]
    has_next, has_prev = (True, more) if backward else (more, bool(token))
    page = Page(items=items, size=size, has_next=has_next and bool(rows),
                has_prev=has_prev and bool(rows))
    if rows:
        if page.has_next:
            page.next_token = encode_token(keys, rows[-1][width:])
        if page.has_prev:
            page.prev_token = encode_token(keys, rows[0][width:])
    return page


def request_page(stmt: Select, sort_columns: Sequence, size: int = DEFAULT_SIZE) -> Page:
    """``keyset_page`` with ``after``/``before``/``size`` taken from the query string."""
    try:
        size = int(request.args.get("size", size))
    except ValueError:
        size = DEFAULT_SIZE
    return keyset_page(stmt, sort_columns, after=request.args.get("after") or None,
                       before=request.args.get("before") or None, size=size)


def sort_columns(value: str | None, allowed: Mapping[str, Any], default: str,
                 tiebreak) -> tuple[str, list]:
    """Parse ``?sort=name`` / ``?sort=-name`` against the ``allowed`` columns.

    Returns the sort value actually used and the columns for ``keyset_page`` (the
    ``tiebreak`` primary key follows the main column's direction). Unknown keys fall back
    to ``default``.
    """
    value = value or default
    name = value.lstrip("-")
    if name not in allowed:
        value, name = default, default.lstrip("-")
    descending = value.startswith("-")
    columns = [allowed[name], tiebreak]
    return value, [c.desc() if descending else c.asc() for c in columns]


def url_with(**changes) -> str:
    """The current URL with query arguments changed; ``None`` removes an argument.

    Used by the pagination, sorting and search macros so filters survive page changes.
    """
    args = request.args.copy()
    for key, value in changes.items():
        args.pop(key, None)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            args.setlist(key, [str(v) for v in value])
        else:
            args[key] = str(value)
    from urllib.parse import urlencode

    query = urlencode(list(args.items(multi=True)))
    return request.path + ("?" + query if query else "")
