"""Marketing: leads_api (wired by register)."""


def register(app) -> None:
    pass
