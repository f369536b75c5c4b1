"""Service: surveys (wired by register)."""


def register(app) -> None:
    pass
