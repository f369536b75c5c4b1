"""Service: portal (wired by register)."""


def register(app) -> None:
    pass
