"""The normalised search key of a customer, kept in sync whenever the session flushes."""

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.customers.models import ContactPoint, Customer
from core.i18n import normalize


def search_key_for(customer: Customer) -> str:
    """Names, contact values and codes in one normalised string (see ``core.i18n.normalize``).

    Mobiles appear both as +989... and as 09...; so a LIKE on part of a number finds them.
    """
    parts = [customer.display_name, customer.first_name, customer.last_name,
             customer.legal_name, customer.national_code, customer.national_id,
             customer.economic_code]
    for contact in customer.contacts:
        parts.append(contact.value)
        if contact.kind == "mobile" and contact.value.startswith("+98"):
            parts.append("0" + contact.value[3:])
    return normalize(" ".join(p for p in parts if p))


def _sync_search_keys(session: Session, _context, _instances) -> None:
    touched = set()
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Customer):
            touched.add(obj)
        elif isinstance(obj, ContactPoint) and obj.customer is not None:
            touched.add(obj.customer)
    for obj in session.deleted:
        if isinstance(obj, ContactPoint) and obj.customer is not None:
            touched.add(obj.customer)
    for customer in touched:
        if customer in session.deleted:
            continue
        key = search_key_for(customer)
        if customer.search_key != key:
            customer.search_key = key


def listen() -> None:
    """Install the flush hook once per process."""
    if not event.contains(Session, "before_flush", _sync_search_keys):
        event.listen(Session, "before_flush", _sync_search_keys)
