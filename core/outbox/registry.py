"""Outbox handlers: how each kind of message is delivered."""

from collections.abc import Callable
from dataclasses import dataclass

from core.outbox.models import OutboxMessage


@dataclass(frozen=True)
class Handler:
    """How to deliver one kind of message."""

    kind: str
    deliver: Callable[[dict, OutboxMessage], None]
    module: str | None = None  # while this module is inactive, its messages wait
    on_failure: Callable[[dict, OutboxMessage, str, bool], None] | None = None
    on_success: Callable[[dict, OutboxMessage, object], None] | None = None


_HANDLERS: dict[str, Handler] = {}


def handler(kind: str, *, module: str | None = None,
            on_success: Callable[[dict, OutboxMessage, object], None] | None = None,
            on_failure: Callable[[dict, OutboxMessage, str, bool], None] | None = None):
    """Decorator: register ``deliver(payload, message)`` for messages of ``kind``.

    ``deliver`` talks to the remote system and raises on failure; it runs outside any
    database transaction. Local bookkeeping belongs in the optional callbacks, which run in
    the transaction that records the outcome: ``on_success(payload, message, result)`` gets
    what ``deliver`` returned; ``on_failure(payload, message, error, dead)``.
    """

    def decorator(func):
        existing = _HANDLERS.get(kind)
        if existing is not None and _name(existing.deliver) != _name(func):
            raise ValueError(
                f"outbox kind {kind!r} already has a handler: {_name(existing.deliver)}"
            )
        _HANDLERS[kind] = Handler(kind, func, module, on_failure, on_success)
        return func

    return decorator


def _name(func) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def handler_for(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)
