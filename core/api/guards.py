"""What the API keeps to whatever it is sent: timestamps with their offset, numbers in range."""

from datetime import UTC, datetime

import marshmallow as ma
from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest

from core.extensions import db

OUT_OF_RANGE = _l("A value is too large or too long for its field.")


def utc_isoformat(value: datetime) -> str:
    """ISO 8601 with the offset (RFC 3339 ``date-time``): stored timestamps are UTC, and SQLite
    hands them back without their zone."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def out_of_range(error):
    """A number past the column's range (SQLite: OverflowError; PostgreSQL: DataError) or a
    text too long for it: the request is refused, nothing of it is kept."""
    db.session.rollback()
    current_app.logger.info("value out of range refused: %s", error)
    if request.path.startswith("/api/"):
        from core.api import problem
        from core.api.problems import TITLES

        return problem(422, str(TITLES[422]), str(OUT_OF_RANGE))
    return current_app.handle_http_exception(BadRequest(str(OUT_OF_RANGE)))


def init_app(app: Flask) -> None:
    # Every ma.fields.DateTime of the API schemas serialises through "iso".
    ma.fields.DateTime.SERIALIZATION_FUNCS = {
        **ma.fields.DateTime.SERIALIZATION_FUNCS, "iso": utc_isoformat, "iso8601": utc_isoformat}
    app.register_error_handler(OverflowError, out_of_range)
    app.register_error_handler(DataError, out_of_range)
