"""Accounting link: widgets (to be written)."""


def register(app) -> None:
    pass
