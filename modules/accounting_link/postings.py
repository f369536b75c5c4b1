"""Accounting link: postings (to be written)."""


def register(app) -> None:
    pass
