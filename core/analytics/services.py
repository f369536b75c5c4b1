"""Recording purchases into the purchases fact, from any source."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.analytics.models import SOURCES, Purchase
from core.extensions import db


class PurchaseError(ValueError):
    """A purchase cannot be recorded; the message says why in plain words."""


def _utc(when: datetime) -> datetime:
    if not isinstance(when, datetime):
        raise PurchaseError(f"occurred_at must be a date and time, not {when!r}")
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _customer_exists(customer_id: int) -> int | None:
    from core.customers.models import Customer

    return db.session.execute(select(Customer.id).where(Customer.id == customer_id)).scalar()


def _by_key(key: str) -> Purchase | None:
    return db.session.execute(select(Purchase).where(Purchase.idempotency_key == key)).scalar()


def _same(found: Purchase, customer_id: int, amount: int, occurred_at: datetime) -> bool:
    found_at = _utc(found.occurred_at)
    return (found.customer_id, found.amount, found_at) == (customer_id, amount, occurred_at)


def record_purchase(customer_id: int, amount: int, occurred_at: datetime, source: str,
                    reference: str = "", key: str | None = None, *,
                    currency: str = "IRR") -> Purchase:
    """Add a purchase in the current transaction (the caller commits); idempotent by ``key``.

    ``amount`` is in integer rials (negative for a refund); a naive ``occurred_at`` is UTC.
    Recording the same ``key`` again returns the first purchase; the same key with another
    customer, amount or time is refused with :class:`PurchaseError`.
    """
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id < 1:
        raise PurchaseError(f"customer_id must be a positive whole number, not {customer_id!r}")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise PurchaseError(f"amount must be a whole number of rials, not {amount!r}")
    if _customer_exists(customer_id) is None:
        raise PurchaseError(f"there is no customer {customer_id}")
    if source not in SOURCES:
        raise PurchaseError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    occurred_at = _utc(occurred_at)
    key = (key or "").strip() or None
    if key is not None:
        found = _by_key(key)
        if found is not None:
            if not _same(found, customer_id, amount, occurred_at):
                raise PurchaseError(f"the key {key!r} was already used for another purchase "
                                    f"(customer {found.customer_id}, amount {found.amount})")
            return found
    purchase = Purchase(customer_id=customer_id, amount=amount, occurred_at=occurred_at,
                        source=source, reference=(reference or "")[:120],
                        idempotency_key=key, currency=currency)
    try:
        with db.session.begin_nested():
            db.session.add(purchase)
    except IntegrityError:  # a concurrent transaction recorded the same key first
        found = _by_key(key) if key else None
        if found is None:
            raise
        return found
    return purchase


def on_purchase_recorded(sender, **kw) -> None:
    """Listener for ``core.events.purchase_recorded``: add the purchase to the fact.

    Senders (sales invoices, imports) emit in their own transaction with these keyword
    arguments: ``customer_id`` (int, required), ``amount`` (int rials, required),
    ``occurred_at`` (datetime, UTC if naive; required), ``reference`` (str, e.g. the invoice
    number), ``key`` (str, idempotency key: the same key is recorded once, e.g.
    ``"invoice:123"``) and ``source`` (one of ``SOURCES``, default ``"sales"``).
    """
    record_purchase(kw["customer_id"], kw["amount"], kw["occurred_at"],
                    kw.get("source") or "sales", kw.get("reference") or "", kw.get("key"))


def score_for(customer_id: int):
    """The customer's scores at the last recompute (a ``CustomerScore``), or None."""
    from core.analytics.models import CustomerScore

    return db.session.get(CustomerScore, customer_id)
