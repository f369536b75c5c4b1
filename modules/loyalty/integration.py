"""Customer club: integration (to be written)."""


def register(app) -> None:
    pass
