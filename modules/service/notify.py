"""Messages to the customer about their ticket (email with the ticket reference, or SMS)."""


def public_reply(ticket, message) -> None:
    """Send an agent's public reply to the customer through the outbox."""
