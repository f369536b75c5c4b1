"""Customer club: jobs (to be written)."""


def register(app) -> None:
    pass
