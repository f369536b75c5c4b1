"""Service: widgets (wired by register)."""


def register(app) -> None:
    pass
