"""One-time sign-in codes: find the customer by a contact point, send a code, check it.

A code is 6 digits, valid for ``CODE_TTL`` and for at most ``MAX_ATTEMPTS`` wrong guesses;
only an HMAC-SHA256 of it (keyed with ``SECRET_KEY``) is stored. Asking for a code for an
address no customer has sends nothing and stores nothing, and the caller answers the same
way either way, so the sign-in page does not reveal who is a customer.
"""

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from core.customers.models import ContactPoint, Customer
from core.database import get_setting, utcnow
from core.extensions import db
from core.i18n import to_latin_digits
from core.messaging import send_email, send_sms
from core.messaging.addresses import canonical_email
from core.portal.models import PortalCode
from core.validators import canonical_mobile

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def parse_destination(text: str) -> tuple[str, str]:
    """("sms", "+989...") or ("email", "a@b.ir") from what the customer typed; ValueError else."""
    text = (text or "").strip()
    if "@" in text:
        return "email", canonical_email(text)
    return "sms", canonical_mobile(text)


def find_customer(channel: str, destination: str) -> Customer | None:
    """The (oldest, not anonymised) customer with this mobile or email, if any."""
    kind = "mobile" if channel == "sms" else "email"
    return db.session.execute(
        select(Customer).join(ContactPoint, ContactPoint.customer_id == Customer.id)
        .where(ContactPoint.kind == kind, ContactPoint.value == destination,
               Customer.anonymised_at.is_(None))
        .order_by(Customer.id).limit(1)
    ).scalar()


def code_hash(destination: str, code: str) -> str:
    """HMAC-SHA256 of the code for this destination, keyed with the app's secret."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{destination}|{code}".encode(), hashlib.sha256).hexdigest()


def issue_code(channel: str, destination: str, *, now: datetime | None = None) -> PortalCode | None:
    """Send a new code to ``destination`` when a customer has it; earlier codes stop working."""
    customer = find_customer(channel, destination)
    if customer is None:
        return None
    now = now or utcnow()
    db.session.execute(update(PortalCode).where(
        PortalCode.destination == destination, PortalCode.used_at.is_(None)).values(used_at=now))
    code = f"{secrets.randbelow(10**6):06d}"
    row = PortalCode(customer_id=customer.id, channel=channel, destination=destination,
                     code_hash=code_hash(destination, code), expires_at=now + CODE_TTL,
                     attempts=0, created_at=now)
    db.session.add(row)
    company = get_setting("company.legal_name") or _("Peyvand")
    text = _("Your sign-in code for %(company)s is %(code)s. It is valid for 10 minutes; "
             "do not share it with anyone.", company=company, code=code)
    key = f"customer:{customer.id}"
    if channel == "sms":
        send_sms(destination, text, customer_key=key, secret=True)
    else:
        send_email(destination, _("Your sign-in code"), text=text, customer_key=key,
                   secret=True)
    db.session.flush()
    return row


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def verify_code(destination: str, code: str, *, now: datetime | None = None) -> Customer | None:
    """The customer when ``code`` is the live code of ``destination``; counts wrong guesses."""
    now = now or utcnow()
    row = db.session.execute(
        select(PortalCode).where(PortalCode.destination == destination,
                                 PortalCode.used_at.is_(None))
        .order_by(PortalCode.created_at.desc(), PortalCode.id.desc()).limit(1)
        .with_for_update()
    ).scalar()
    if row is None or _aware(row.expires_at) <= now or row.attempts >= MAX_ATTEMPTS:
        return None
    typed = to_latin_digits((code or "").strip())
    if not hmac.compare_digest(row.code_hash, code_hash(destination, typed)):
        row.attempts += 1
        if row.attempts >= MAX_ATTEMPTS:
            row.used_at = now  # burnt: the customer must ask for a new code
        return None
    row.used_at = now
    return db.session.get(Customer, row.customer_id)


def purge_codes(now: datetime | None = None) -> int:
    """Periodic job: delete codes a day past their expiry (used or not); returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=1)
    result = db.session.execute(delete(PortalCode).where(PortalCode.expires_at < cutoff))
    db.session.commit()
    return result.rowcount or 0
