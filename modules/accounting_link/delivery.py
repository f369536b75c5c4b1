"""Accounting link: delivery (to be written)."""


def register(app) -> None:
    pass
