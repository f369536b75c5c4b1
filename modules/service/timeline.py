"""Service: timeline (wired by register)."""


def register(app) -> None:
    pass
