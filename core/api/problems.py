"""HTTP errors as ``application/problem+json`` (RFC 9457) for every API path."""

from typing import NoReturn

from flask import Response
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from core.api import problem

TITLES = {
    400: _l("Bad request"),
    401: _l("Not signed in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid request"),
    428: _l("Precondition required"),
    429: _l("Too many requests"),
    500: _l("Server error"),
}
DETAILS = {
    401: _l("Send a valid personal access token as 'Authorization: Bearer <token>'."),
    403: _l("Your role or your module seats do not allow this."),
    404: _l("There is nothing at this address."),
    405: _l("This address does not accept that kind of request."),
    422: _l("Some fields are invalid; see 'errors'."),
    429: _l("Too many requests. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. It has been logged."),
}
PASSED_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def invalid_fields(errors: dict) -> NoReturn:
    """Roll back the request's work and answer 422 with each field's messages in ``errors``."""
    from flask_babel import gettext
    from flask_smorest import abort

    from core.extensions import db

    db.session.rollback()
    abort(422, message=gettext("Some fields are invalid; see 'errors'."), errors=errors)


def problem_from_exception(error: HTTPException) -> Response:
    """The problem+json response for an HTTP error (webargs field errors go to ``errors``)."""
    code = error.code or 500
    if isinstance(error, InternalServerError) or code >= 500:
        detail = str(DETAILS[500])
    elif code == 429:  # the limiter's description is its rule ("10 per 1 minute")
        detail = str(DETAILS[429])
    elif error.description and error.description != type(error).description:
        detail = str(error.description)
    else:
        detail = str(DETAILS.get(code, error.description or ""))
    extra = {}
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if errors:
        extra["errors"] = errors
    if data.get("message"):
        detail = str(data["message"])
    title = str(TITLES.get(code, error.name))
    response = problem(code, title, detail, **extra)
    own = dict(error.get_headers())
    for name in PASSED_HEADERS:
        if own.get(name):
            response.headers[name] = own[name]
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response
