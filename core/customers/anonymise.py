"""Anonymising a customer on request: personal data goes, the business record stays.

    add_anonymise_handler(app, handler)     # in a module's register(app)
    def handler(customer_id: int) -> None: ...

A handler scrubs its module's personal data about the customer (message bodies, ticket
texts, portal logins...) inside the same transaction, and must keep what the law needs:
invoices keep their buyer fields, which modules snapshot on their own documents. A handler
that raises undoes the whole anonymisation. Handlers run whether or not the module is
licensed at the moment: its rows hold personal data either way.

The core replaces the names with «Anonymous customer <id>» (in the deployment's language);
clears national code and ids, birthday, anniversary, custom fields, tags, contact points,
addresses and affiliations; empties the bodies of notes and the titles of tasks (open tasks
are closed: nobody is left to do them for); forgets the names of records merged into it;
sets ``anonymised_at``, which hides the customer from search, lists and duplicates. Purchases
and the customer id stay, so analytics and invoices still add up. It cannot be undone.
"""

from collections.abc import Callable

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, update

from core import audit
from core.customers.merge import CustomerMerge, part_of
from core.customers.models import Affiliation, Customer, Note, Task
from core.database import utcnow
from core.extensions import db

KEY = "crm_anonymise_handlers"

Handler = Callable[[int], None]

PLACEHOLDER = "—"


def add_anonymise_handler(app: Flask, handler: Handler) -> None:
    """Register ``handler(customer_id)``, run inside every anonymisation's transaction."""
    app.extensions.setdefault(KEY, []).append(handler)


class AnonymiseError(ValueError):
    """The customer cannot be anonymised (or it was undone); the message says why."""


def placeholder_name(customer_id: int) -> str:
    """«مشتری ناشناس ۱۲۳»: the name an anonymised customer keeps, in the deployment's language."""
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "fa")):
        return _("Anonymous customer %(number)d", number=customer_id)


def anonymise_customer(customer: Customer, *, by=None) -> Customer:
    """Remove the personal data of ``customer`` in the current transaction; the caller commits."""
    if customer.anonymised_at is not None:
        raise AnonymiseError(_("This customer has already been anonymised."))
    name = placeholder_name(customer.id)
    customer.display_name = name
    customer.first_name = customer.last_name = customer.legal_name = ""
    customer.national_code = customer.national_id = customer.economic_code = None
    customer.birthday = customer.anniversary = None
    customer.consent_email = customer.consent_sms = False
    customer.custom = {}
    customer.tags = []
    customer.contacts = []
    customer.addresses = []
    customer.anonymised_at = utcnow()
    db.session.flush()
    db.session.execute(delete(Affiliation).where(
        (Affiliation.person_id == customer.id) | (Affiliation.organisation_id == customer.id)))
    db.session.execute(update(Note).where(Note.customer_id == customer.id).values(body=""))
    db.session.execute(update(Task).where(Task.customer_id == customer.id)
                       .values(title=PLACEHOLDER))
    db.session.execute(update(Task).where(Task.customer_id == customer.id,
                                          Task.done_at.is_(None)).values(done_at=utcnow()))
    db.session.execute(update(CustomerMerge).where(CustomerMerge.survivor_id == customer.id)
                       .values(loser_name=""))
    for handler in current_app.extensions.get(KEY, []):
        try:
            handler(customer.id)
        except Exception as exc:  # any failure undoes it all; the user learns which part
            raise AnonymiseError(_("Nothing was changed: %(part)s could not remove its "
                                   "personal data (%(error)s).",
                                   part=part_of(handler),
                                   error=str(exc) or type(exc).__name__)) from exc
    audit.record("customer.anonymise", target=f"customer:{customer.id}",
                 user_id=getattr(by, "id", None))
    return customer


def anonymised_entries(customer: Customer) -> list:
    """Timeline entry: when the customer's personal data was removed."""
    from core.customers.timeline import TimelineEntry

    if customer.anonymised_at is None:
        return []
    return [TimelineEntry(at=customer.anonymised_at, kind="anonymised",
                          title=_("Personal data removed (anonymised)"))]
