"""Accounting link: imports (to be written)."""


def register(app) -> None:
    pass
