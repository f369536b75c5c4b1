"""Accounting link: demo (to be written)."""


def register(app) -> None:
    pass
