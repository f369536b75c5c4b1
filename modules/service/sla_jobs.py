"""Service: sla_jobs (wired by register)."""


def register(app) -> None:
    pass
