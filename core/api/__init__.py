"""JSON REST API under /api/v1 (skeleton: the API work adds tokens, idempotency, docs)."""

from flask import Flask, jsonify

from core.extensions import api


def problem(status: int, title: str, detail: str = "", **extra):
    """An ``application/problem+json`` error response (RFC 9457)."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def init_app(app: Flask) -> None:
    api.init_app(app)
