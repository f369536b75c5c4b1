"""Assignment: round-robin among the active agents of a team."""


def round_robin(ticket, at=None) -> None:
    """Give ``ticket`` to the next agent of its team."""
