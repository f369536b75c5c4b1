"""Domain signals (blinker).

Listeners run synchronously, in the sender's thread and in the same database transaction as
the change that fired them: what a listener writes commits or rolls back with that change.
A listener that talks to another system must not do so directly; it adds an outbox message
(``core.outbox.enqueue``), which is delivered after the commit. Modules wrap their listeners
in ``module_listener(name)`` so that they do nothing while the module is inactive.

    emit(invoice_posted, invoice=invoice)      # sender: the current app
"""

from functools import wraps

from blinker import Namespace, Signal
from flask import Flask, current_app

signals = Namespace()

customer_created = signals.signal("customer_created")
customer_updated = signals.signal("customer_updated")
customers_merged = signals.signal("customers_merged")
invoice_posted = signals.signal("invoice_posted")
payment_recorded = signals.signal("payment_recorded")
# a cheque moved received → deposited → cleared, or bounced (payment, old_status, status, ...)
cheque_status_changed = signals.signal("cheque_status_changed")
purchase_recorded = signals.signal("purchase_recorded")
ticket_closed = signals.signal("ticket_closed")
# a club ledger entry was written: member_id, customer_id, entry_id, kind (earn, release,
# redeem, expire, adjust, reverse), bucket (pending | available), points (signed), value
# (rials, at the club's point value), reference, occurred_at
points_changed = signals.signal("points_changed")
license_changed = signals.signal("license_changed")
user_changed = signals.signal("user_changed")


def module_listener(module: str):
    """Wrap a listener so it does nothing while ``module`` is inactive (not licensed)."""

    def decorator(func):
        @wraps(func)
        def wrapped(*args, **kwargs):
            from core.modules import is_active

            if is_active(module):
                return func(*args, **kwargs)
            return None

        wrapped._crm_module = module
        return wrapped

    return decorator


def emit(signal: Signal, sender=None, **kwargs) -> list:
    """Send ``signal`` (from the current app unless ``sender`` is given); returns the results."""
    if sender is None:
        sender = current_app._get_current_object()
    return [result for _receiver, result in signal.send(sender, **kwargs)]


def init_app(app: Flask) -> None:
    pass
