"""Domain signals (blinker). Listeners run in the same transaction as the change that fired them."""

from functools import wraps

from blinker import Namespace
from flask import Flask

signals = Namespace()

customer_created = signals.signal("customer_created")
customer_updated = signals.signal("customer_updated")
customers_merged = signals.signal("customers_merged")
invoice_posted = signals.signal("invoice_posted")
payment_recorded = signals.signal("payment_recorded")
purchase_recorded = signals.signal("purchase_recorded")
ticket_closed = signals.signal("ticket_closed")
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


def init_app(app: Flask) -> None:
    pass
