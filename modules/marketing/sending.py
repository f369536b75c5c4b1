"""Marketing: sending (wired by register)."""


def register(app) -> None:
    pass
