"""Accounting link: exports (to be written)."""


def register(app) -> None:
    pass
