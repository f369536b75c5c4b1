"""Customer club: rewards (to be written)."""


def register(app) -> None:
    pass
