"""Customer club: earning (to be written)."""


def register(app) -> None:
    pass
