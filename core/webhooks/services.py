"""Webhook endpoint rules: add with a fresh secret, enable or disable, send a test event."""

import secrets

from core.extensions import db
from core.webhooks.delivery import enqueue_event
from core.webhooks.models import WebhookEndpoint


def create_endpoint(url: str, events: list[str], description: str = "") -> WebhookEndpoint:
    """Add an endpoint with a fresh signing secret (the caller shows it once)."""
    endpoint = WebhookEndpoint(url=url.strip(), events=["*"] if "*" in events else list(events),
                               description=description.strip(), active=True,
                               secret="whsec_" + secrets.token_urlsafe(32))
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """Enable or disable an endpoint; a disabled one gets nothing, not even pending deliveries."""
    endpoint.active = active


def send_test_event(endpoint: WebhookEndpoint) -> None:
    """Queue a signed "ping" for one endpoint (in the current transaction)."""
    if not endpoint.active:
        raise ValueError("a disabled webhook cannot receive a test event")
    enqueue_event("ping", {"message": "Test event from Peyvand"}, endpoints=[endpoint])
