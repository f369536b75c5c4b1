"""Accounting link: moadian (to be written)."""


def register(app) -> None:
    pass
