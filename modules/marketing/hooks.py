"""Marketing: hooks (wired by register)."""


def register(app) -> None:
    pass
