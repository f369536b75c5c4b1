"""Password hashing with argon2id."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context


@cache
def _hasher_for(time_cost: int | None, memory_cost: int | None) -> PasswordHasher:
    options = {k: v for k, v in (("time_cost", time_cost), ("memory_cost", memory_cost)) if v}
    return PasswordHasher(**options)  # argon2id; library defaults unless configured


def _hasher() -> PasswordHasher:
    """argon2id with the recommended parameters (tests may lower them with ARGON2_*)."""
    if has_app_context():
        config = current_app.config
        return _hasher_for(config.get("ARGON2_TIME_COST"), config.get("ARGON2_MEMORY_COST"))
    return _hasher_for(None, None)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches; never raises on a malformed or missing hash."""
    if not stored:
        return False
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)
