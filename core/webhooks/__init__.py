"""Outgoing webhooks: core events POSTed, HMAC-signed, through the outbox (retries, order).

See ``core.webhooks.delivery`` for the wire format and ``verify()`` for receivers.
"""

from flask import Flask
from flask_babel import lazy_gettext as _l

EVENTS = {
    "customer_created": _l("Customer created"),
    "invoice_posted": _l("Invoice posted"),
    "payment_recorded": _l("Payment recorded"),
    "purchase_recorded": _l("Purchase recorded"),
    "ticket_closed": _l("Ticket closed"),
    "points_changed": _l("Loyalty points changed"),
    "license_changed": _l("License changed"),
}

_receivers: dict = {}


def init_app(app: Flask) -> None:
    from core import events
    from core.webhooks import delivery, models, views  # noqa: F401 - table and outbox handler

    app.extensions["crm_webhooks"] = True
    app.register_blueprint(views.bp)
    for name in EVENTS:
        if name not in _receivers:  # blinker keeps one strong reference per receiver
            _receivers[name] = delivery.receiver(name)
            getattr(events, name).connect(_receivers[name], weak=False)
