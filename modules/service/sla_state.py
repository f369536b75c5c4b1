"""SLA cache of a ticket, computed from its events (owned by the SLA work; see sla.py)."""


def refresh(ticket, now=None) -> None:
    """Recompute ``ticket``'s SLA columns from its event history."""
