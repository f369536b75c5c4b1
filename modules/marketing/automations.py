"""Marketing: automations (wired by register)."""


def register(app) -> None:
    pass
