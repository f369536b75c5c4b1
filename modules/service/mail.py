"""Service: mail (wired by register)."""


def register(app) -> None:
    pass
