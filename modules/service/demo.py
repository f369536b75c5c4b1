"""Service: demo (wired by register)."""


def register(app) -> None:
    pass
