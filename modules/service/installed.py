"""Service: installed (wired by register)."""


def register(app) -> None:
    pass
