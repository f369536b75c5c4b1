"""The three documents: reseller certificates, customer licenses and revocation lists.

Vendor root key → signs a reseller certificate → the reseller's key signs customer licenses,
each carrying its certificate. Every refusal says what is wrong in words a reseller knows.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask_babel import gettext as _

from core.licensing import crypto
from core.licensing.crypto import DocumentError

TEHRAN = ZoneInfo("Asia/Tehran")
KINDS = ("trial", "subscription", "perpetual")


class LicenseError(DocumentError):
    """A certificate or license is refused; the message names the reason for the reseller."""


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in Tehran, in UTC."""
    return datetime.combine(day, time.min, TEHRAN).astimezone(UTC)


def day_end(day: date) -> datetime:
    """The moment ``day`` ends in Tehran (the next day's start), in UTC."""
    return day_start(day + timedelta(days=1))


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("timestamps must carry a time zone")
    return moment


def short(ident: str) -> str:
    return ident[:8] + "…" if len(ident) > 10 else ident


@dataclass(frozen=True)
class Certificate:
    """A reseller's right to issue licenses, signed by a vendor root key."""

    reseller_id: str
    name: str
    public_key: str
    modules: tuple[str, ...]
    max_seats: int
    max_total_seats: int | None
    valid_from: datetime
    valid_until: datetime
    envelope: dict = field(repr=False, compare=False)

    @classmethod
    def from_envelope(cls, envelope: dict) -> "Certificate":
        p = envelope["payload"]
        try:
            cert = cls(str(p["reseller_id"]), str(p["name"]), str(p["public_key"]),
                       tuple(str(m) for m in p["modules"]), int(p["max_seats"]),
                       None if p.get("max_total_seats") is None else int(p["max_total_seats"]),
                       parse_moment(p["valid_from"]), parse_moment(p["valid_until"]), envelope)
        except (KeyError, TypeError, ValueError) as exc:
            raise LicenseError(_("the reseller certificate is missing a field or has a wrong "
                                 "value (%(error)s)", error=str(exc))) from exc
        return cert

    def seats_problem(self, modules: dict[str, int]) -> str:
        """Why ``modules`` exceeds what this certificate allows, or ""."""
        for name, seats in sorted(modules.items()):
            if name not in self.modules:
                return _("reseller %(reseller)s may not grant the module %(module)s (its "
                         "certificate allows: %(allowed)s)", reseller=self.name, module=name,
                         allowed=", ".join(self.modules) or "-")
            if seats > self.max_seats:
                return _("reseller %(reseller)s may grant at most %(cap)d seats per module, "
                         "but %(module)s has %(seats)d", reseller=self.name, cap=self.max_seats,
                         module=name, seats=seats)
        total = sum(modules.values())
        if self.max_total_seats is not None and total > self.max_total_seats:
            return _("reseller %(reseller)s may grant at most %(cap)d seats in all, but this "
                     "license has %(seats)d", reseller=self.name, cap=self.max_total_seats,
                     seats=total)
        return ""


@dataclass(frozen=True)
class License:
    """A customer license as issued by a reseller."""

    license_id: str
    licensee: dict
    deployment_id: str
    modules: dict[str, int]
    kind: str
    updates_until: datetime | None
    not_before: datetime
    expires_at: datetime | None
    grace_days: int
    issuer: str
    issued_at: datetime
    certificate: Certificate
    text: str = field(default="", repr=False, compare=False)

    @classmethod
    def from_envelope(cls, envelope: dict, text: str = "") -> "License":
        p = envelope["payload"]
        try:
            lic = cls(str(p["license_id"]),
                      {k: str(p["licensee"].get(k) or "")
                       for k in ("legal_name", "national_id", "economic_code")},
                      str(p["deployment_id"]),
                      {str(k): int(v) for k, v in p["modules"].items()}, str(p["kind"]),
                      parse_moment(p.get("updates_until")), parse_moment(p["not_before"]),
                      parse_moment(p.get("expires_at")), int(p["grace_days"]), str(p["issuer"]),
                      parse_moment(p["issued_at"]),
                      _certificate_in(p["reseller_certificate"]), text)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LicenseError(_("the license is missing a field or has a wrong value "
                                 "(%(error)s)", error=str(exc))) from exc
        if lic.kind not in KINDS:
            raise LicenseError(_("unknown license kind %(kind)s", kind=lic.kind))
        return lic

    @property
    def grace_until(self) -> datetime | None:
        return None if self.expires_at is None else self.expires_at + timedelta(self.grace_days)


def _certificate_in(envelope) -> Certificate:
    if not isinstance(envelope, dict) or envelope.get("type") != crypto.CERTIFICATE \
            or set(envelope) != {"type", "payload", "signature"}:
        raise ValueError("the embedded reseller certificate is malformed")
    return Certificate.from_envelope(envelope)


def _trusted(envelope: dict, root_keys: list[str]) -> bool:
    for text in root_keys:
        try:
            key = crypto.public_key(text)
        except DocumentError:
            continue
        if crypto.signature_valid(envelope, key):
            return True
    return False


def certify_reseller(root_key: Ed25519PrivateKey, *, reseller_id: str, name: str,
                     reseller_public: str, modules: list[str], max_seats: int,
                     valid_until: date, valid_from: date | None = None,
                     max_total_seats: int | None = None, now: datetime | None = None) -> str:
    """Sign a reseller certificate with the vendor root key; returns the armoured text."""
    crypto.public_key(reseller_public)  # refuse a bad key now, not at the customer's
    now = now or datetime.now(UTC)
    if max_seats < 1:
        raise LicenseError(_("--max-seats must be at least 1"))
    payload = {
        "version": 1, "reseller_id": reseller_id, "name": name,
        "public_key": reseller_public.strip(), "modules": sorted(set(modules)),
        "max_seats": max_seats, "max_total_seats": max_total_seats,
        "valid_from": iso(day_start(valid_from or now.astimezone(TEHRAN).date())),
        "valid_until": iso(day_end(valid_until)), "issued_at": iso(now),
    }
    return crypto.armour(crypto.sign(crypto.CERTIFICATE, payload, root_key))


def read_certificate(text: str, root_keys: list[str] | None = None) -> Certificate:
    """Parse a certificate; with ``root_keys``, also insist a trusted root signed it."""
    envelope = crypto.dearmour(text, crypto.CERTIFICATE)
    cert = Certificate.from_envelope(envelope)
    if root_keys is not None and not _trusted(envelope, root_keys):
        raise LicenseError(_("the certificate of reseller %(reseller)s is not signed by a "
                             "vendor key this deployment trusts", reseller=cert.name))
    return cert


def issue_license(reseller_key: Ed25519PrivateKey, certificate_text: str, *, licensee: str,
                  deployment_id: str, modules: dict[str, int], kind: str,
                  expires: date | None, national_id: str = "", economic_code: str = "",
                  grace_days: int = 14, not_before: date | None = None,
                  updates_until: date | None = None, now: datetime | None = None) -> str:
    """Sign a customer license with the reseller's key; refuses what the certificate forbids."""
    now = now or datetime.now(UTC)
    cert = read_certificate(certificate_text)
    if crypto.public_key_text(reseller_key) != cert.public_key:
        raise LicenseError(_("this private key does not belong to the certificate of reseller "
                             "%(reseller)s", reseller=cert.name))
    if not cert.valid_from <= now < cert.valid_until:
        raise LicenseError(_("the certificate of reseller %(reseller)s is valid from %(start)s "
                             "to %(end)s, not now", reseller=cert.name,
                             start=cert.valid_from.date(), end=cert.valid_until.date()))
    if kind not in KINDS:
        raise LicenseError(_("--kind must be one of %(kinds)s", kinds=", ".join(KINDS)))
    if kind != "perpetual" and expires is None:
        raise LicenseError(_("a %(kind)s license needs an expiry date", kind=kind))
    if not modules or any(seats < 1 for seats in modules.values()):
        raise LicenseError(_("a license needs at least one module, each with at least one seat"))
    if grace_days < 0:
        raise LicenseError(_("grace days cannot be negative"))
    problem = cert.seats_problem(modules)
    if problem:
        raise LicenseError(problem)
    payload = {
        "version": 1, "license_id": uuid.uuid4().hex,
        "licensee": {"legal_name": licensee, "national_id": national_id,
                     "economic_code": economic_code},
        "deployment_id": deployment_id.strip(), "modules": dict(sorted(modules.items())),
        "kind": kind, "updates_until": iso(day_end(updates_until)) if updates_until else None,
        "not_before": iso(day_start(not_before or now.astimezone(TEHRAN).date())),
        "expires_at": iso(day_end(expires)) if expires else None,
        "grace_days": grace_days, "issuer": cert.reseller_id, "issued_at": iso(now),
        "reseller_certificate": cert.envelope,
    }
    return crypto.armour(crypto.sign(crypto.LICENSE, payload, reseller_key))


@dataclass(frozen=True)
class Revocations:
    """The vendor's list of revoked license and reseller ids."""

    sequence: int = 0
    licenses: frozenset[str] = frozenset()
    resellers: frozenset[str] = frozenset()


def make_revocations(root_key: Ed25519PrivateKey, *, sequence: int, licenses=(), resellers=(),
                     now: datetime | None = None) -> str:
    """Sign a revocation list with the vendor root key; returns the armoured text."""
    payload = {"version": 1, "sequence": sequence, "licenses": sorted(set(licenses)),
               "resellers": sorted(set(resellers)), "issued_at": iso(now or datetime.now(UTC))}
    return crypto.armour(crypto.sign(crypto.REVOCATIONS, payload, root_key))


def read_revocations(text: str, root_keys: list[str]) -> Revocations:
    """Parse and verify a revocation list signed by a trusted root key."""
    envelope = crypto.dearmour(text, crypto.REVOCATIONS)
    if not _trusted(envelope, root_keys):
        raise LicenseError(_("the revocation list is not signed by a vendor key this "
                             "deployment trusts"))
    p = envelope["payload"]
    try:
        return Revocations(int(p["sequence"]), frozenset(map(str, p["licenses"])),
                           frozenset(map(str, p["resellers"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise LicenseError(_("the revocation list is damaged (%(error)s)", error=str(exc))) from exc


def verify_license(text: str, *, root_keys: list[str], deployment_id: str | None,
                   now: datetime, revocations: Revocations = Revocations()) -> License:
    """Check a license completely; returns it or raises ``LicenseError`` naming the reason.

    Expiry is not a refusal here: an expired license still decides grace and read-only.
    """
    envelope = crypto.dearmour(text, crypto.LICENSE)
    lic = License.from_envelope(envelope, text)
    cert = lic.certificate
    if not _trusted(cert.envelope, root_keys):
        raise LicenseError(_("the certificate of reseller %(reseller)s is not signed by a "
                             "vendor key this deployment trusts", reseller=cert.name))
    if not crypto.signature_valid(envelope, crypto.public_key(cert.public_key)):
        raise LicenseError(_("the license signature does not match the key of reseller "
                             "%(reseller)s (the file was changed or signed by someone else)",
                             reseller=cert.name))
    if lic.issuer != cert.reseller_id:
        raise LicenseError(_("the license names issuer %(issuer)s but carries the certificate "
                             "of %(reseller)s", issuer=lic.issuer, reseller=cert.reseller_id))
    if not cert.valid_from <= lic.issued_at < cert.valid_until:
        raise LicenseError(_("the license was issued on %(issued)s, outside the validity of "
                             "reseller %(reseller)s's certificate (%(start)s to %(end)s)",
                             issued=lic.issued_at.date(), reseller=cert.name,
                             start=cert.valid_from.date(), end=cert.valid_until.date()))
    problem = cert.seats_problem(lic.modules)
    if problem:
        raise LicenseError(problem)
    if deployment_id is not None and lic.deployment_id != deployment_id:
        raise LicenseError(_("this license is for deployment %(theirs)s, this deployment is "
                             "%(ours)s", theirs=short(lic.deployment_id),
                             ours=short(deployment_id)))
    if lic.license_id in revocations.licenses:
        raise LicenseError(_("license %(license)s has been revoked by the vendor",
                             license=short(lic.license_id)))
    if cert.reseller_id in revocations.resellers:
        raise LicenseError(_("reseller %(reseller)s has been revoked by the vendor; its "
                             "licenses are no longer accepted", reseller=cert.name))
    if now < lic.not_before:
        raise LicenseError(_("this license starts on %(start)s; it cannot be used before then",
                             start=lic.not_before.astimezone(TEHRAN).date()))
    return lic
