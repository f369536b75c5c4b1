"""Test keys and documents: our own vendor root and reseller, fixed dates."""

from datetime import UTC, date, datetime

from core.licensing import crypto, documents

BASE = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
ROOT = crypto.generate_key()
RESELLER = crypto.generate_key()
ROOT_PUBLIC = crypto.public_key_text(ROOT)


def certificate(modules=("marketing", "sales", "service", "loyalty", "accounting_link"),
                max_seats=50, key=RESELLER, root=ROOT, **extra) -> str:
    return documents.certify_reseller(
        root, reseller_id="r-42", name="Arya Systems", reseller_public=crypto.public_key_text(key),
        modules=list(modules), max_seats=max_seats, valid_from=date(2025, 1, 1),
        valid_until=date(2027, 12, 31), now=BASE, **extra)


def license_text(deployment_id: str, modules=None, kind="subscription", expires=date(2026, 6, 30),
                 cert=None, now=BASE, **extra) -> str:
    return documents.issue_license(
        RESELLER, cert or certificate(), licensee="شرکت نمونه پارس", national_id="10101234567",
        economic_code="411111111111", deployment_id=deployment_id,
        modules=modules or {"sales": 5, "service": 2}, kind=kind, expires=expires, now=now,
        **extra)


class Clock:
    """The time licensing sees; tests move it with ``clock.now = ...``."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now
