"""License format: the signature chain, canonical armour, and refusals a reseller can read."""

import base64
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.licensing import crypto, documents
from core.licensing.documents import LicenseError, Revocations, verify_license
from tests.core.licensing.helpers import (
    BASE,
    RESELLER,
    ROOT,
    ROOT_PUBLIC,
    certificate,
    license_text,
)

DEPLOYMENT = "7f3a9c0e5b6d4e21a8f0c3b2d1e4f5a6"
LICENSE = license_text(DEPLOYMENT)
CERT = certificate()


def verify(text, deployment=DEPLOYMENT, now=BASE, **kwargs):
    return verify_license(text, root_keys=[ROOT_PUBLIC], deployment_id=deployment, now=now,
                          **kwargs)


def test_a_license_verifies_and_carries_its_fields():
    lic = verify(LICENSE)
    assert lic.licensee["legal_name"] == "شرکت نمونه پارس"
    assert lic.modules == {"sales": 5, "service": 2}
    assert lic.kind == "subscription" and lic.grace_days == 14
    assert lic.issuer == "r-42" and lic.certificate.name == "Arya Systems"
    # expires at the end of 30 June in Tehran; grace 14 days after that
    assert lic.expires_at.isoformat() == "2026-06-30T20:30:00+00:00"
    assert lic.grace_until - lic.expires_at == timedelta(days=14)
    assert LICENSE.startswith("-----BEGIN PEYVAND LICENSE-----\n")
    assert LICENSE.endswith("-----END PEYVAND LICENSE-----\n")
    assert CERT.startswith("-----BEGIN PEYVAND RESELLER CERTIFICATE-----\n")


def test_signatures_cover_canonical_json_with_a_prefix_per_type():
    envelope = crypto.dearmour(LICENSE, crypto.LICENSE)
    payload = crypto.canonical(envelope["payload"])
    assert payload.startswith(b'{"deployment_id":"7f3a')  # sorted keys
    assert b'", "' not in payload and b'": ' not in payload  # no whitespace
    assert "شرکت نمونه پارس".encode() in payload  # UTF-8, not \u escapes
    signature = crypto.unb64(envelope["signature"], "signature")
    key = crypto.public_key(envelope["payload"]["reseller_certificate"]["payload"]["public_key"])
    key.verify(signature, b"peyvand-license-v1\n" + payload)
    # the same payload signed as another document type does not verify as a license
    forged = {**envelope, "signature": crypto.b64(RESELLER.sign(
        b"peyvand-reseller-cert-v1\n" + payload))}
    with pytest.raises(LicenseError, match="signature does not match"):
        verify(crypto.armour(forged))


def _flip(text: str, position: int, value: int) -> bytes:
    data = bytearray(text.encode("utf-8"))
    position %= len(data)
    if data[position] == value:
        value = (value + 1) % 256
    data[position] = value
    return bytes(data)


def _refused(check, data: bytes) -> bool:
    try:
        check(data.decode("utf-8"))
    except (UnicodeDecodeError, documents.DocumentError):
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_any_changed_byte_of_a_license_is_refused(position, value):
    assert _refused(verify, _flip(LICENSE, position, value))


@settings(max_examples=400, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_any_changed_byte_of_a_certificate_is_refused(position, value):
    assert _refused(lambda text: documents.read_certificate(text, [ROOT_PUBLIC]),
                    _flip(CERT, position, value))


def _padded_license() -> str:
    """A license whose base64 ends in padding (depends on the licensee name's length)."""
    for extra in range(3):
        text = documents.issue_license(
            RESELLER, CERT, licensee="Co" + "x" * extra, deployment_id=DEPLOYMENT,
            modules={"sales": 1}, kind="subscription", expires=date(2026, 5, 1), now=BASE)
        if text.split("\n")[-3].endswith("="):
            return text
    raise AssertionError("no padded variant")


def test_base64_that_still_decodes_to_the_same_bytes_is_refused():
    text = _padded_license()
    lines = text.split("\n")
    last = lines[-3]
    stem = last.rstrip("=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    # the character before the padding has spare low bits: flipping one decodes the same bytes
    lines[-3] = stem[:-1] + alphabet[alphabet.index(stem[-1]) ^ 1] + last[len(stem):]
    altered = "\n".join(lines)
    assert base64.b64decode("".join(lines[1:-2])) == base64.b64decode("".join(
        text.split("\n")[1:-2]))
    assert verify(text).licensee["legal_name"].startswith("Co")
    with pytest.raises(documents.DocumentError, match="not in canonical base64"):
        verify(altered)


def test_rewrapped_armour_is_refused():
    body = "".join(LICENSE.split("\n")[1:-2])
    rewrapped = "\n".join(["-----BEGIN PEYVAND LICENSE-----", body[:76], body[76:],
                           "-----END PEYVAND LICENSE-----", ""])
    with pytest.raises(documents.DocumentError, match="altered"):
        verify(rewrapped)


def test_line_endings_from_a_windows_editor_are_accepted():
    assert verify(LICENSE.replace("\n", "\r\n")).license_id == verify(LICENSE).license_id


def test_a_license_for_another_deployment_names_both_ids():
    with pytest.raises(LicenseError) as error:
        verify(LICENSE, deployment="91a0b2c3d4e5f60718293a4b5c6d7e8f")
    assert str(error.value) == ("this license is for deployment 7f3a9c0e…, "
                                "this deployment is 91a0b2c3…")


def test_a_reseller_cannot_grant_a_module_outside_its_certificate():
    narrow = certificate(modules=("sales",), max_seats=10)
    with pytest.raises(LicenseError, match="may not grant the module service"):
        license_text(DEPLOYMENT, {"sales": 2, "service": 1}, cert=narrow)
    forged = _sign_directly(narrow, {"sales": 2, "service": 1})
    with pytest.raises(LicenseError, match="may not grant the module service"):
        verify(forged)


def test_a_reseller_cannot_grant_more_seats_than_its_certificate():
    narrow = certificate(modules=("sales",), max_seats=10)
    with pytest.raises(LicenseError, match="at most 10 seats per module, but sales has 11"):
        license_text(DEPLOYMENT, {"sales": 11}, cert=narrow)
    with pytest.raises(LicenseError, match="at most 10 seats per module, but sales has 11"):
        verify(_sign_directly(narrow, {"sales": 11}))
    capped = certificate(modules=("sales", "service"), max_seats=10, max_total_seats=12)
    with pytest.raises(LicenseError, match="at most 12 seats in all, but this license has 15"):
        license_text(DEPLOYMENT, {"sales": 10, "service": 5}, cert=capped)


def _sign_directly(cert_text: str, modules: dict) -> str:
    """What a dishonest reseller could produce by skipping ``issue_license``'s checks."""
    envelope = crypto.dearmour(license_text(DEPLOYMENT, {"sales": 1}, cert=cert_text),
                               crypto.LICENSE)
    payload = {**envelope["payload"], "modules": modules}
    return crypto.armour(crypto.sign(crypto.LICENSE, payload, RESELLER))


def test_a_certificate_from_an_untrusted_root_is_refused():
    stranger = crypto.generate_key()
    text = license_text(DEPLOYMENT, cert=certificate(root=stranger))
    with pytest.raises(LicenseError, match="not signed by a vendor key this deployment trusts"):
        verify(text)


def test_a_license_signed_by_another_key_than_the_certificate_is_refused():
    with pytest.raises(LicenseError, match="private key does not belong"):
        documents.issue_license(crypto.generate_key(), CERT, licensee="x", deployment_id="d",
                                modules={"sales": 1}, kind="subscription",
                                expires=date(2026, 5, 1), now=BASE)
    envelope = crypto.dearmour(LICENSE, crypto.LICENSE)
    forged = crypto.armour(crypto.sign(crypto.LICENSE, envelope["payload"], ROOT))
    with pytest.raises(LicenseError, match="does not match the key of reseller Arya Systems"):
        verify(forged)


def test_the_certificate_must_be_valid_when_the_license_is_issued():
    with pytest.raises(LicenseError, match="valid from 2024-12-31 to 2027-12-31, not now"):
        license_text(DEPLOYMENT, now=BASE.replace(year=2028))


def test_not_before_is_enforced():
    text = license_text(DEPLOYMENT, not_before=date(2026, 2, 1))
    with pytest.raises(LicenseError, match="starts on 2026-02-01"):
        verify(text)
    assert verify(text, now=BASE.replace(month=2, day=2)).license_id


def test_revoked_licenses_and_resellers_are_refused():
    lic = verify(LICENSE)
    with pytest.raises(LicenseError, match="has been revoked by the vendor"):
        verify(LICENSE, revocations=Revocations(1, frozenset({lic.license_id})))
    with pytest.raises(LicenseError, match="reseller Arya Systems has been revoked"):
        verify(LICENSE, revocations=Revocations(1, resellers=frozenset({"r-42"})))
    listing = documents.make_revocations(ROOT, sequence=3, licenses=[lic.license_id])
    assert documents.read_revocations(listing, [ROOT_PUBLIC]).licenses == {lic.license_id}
    with pytest.raises(LicenseError, match="revocation list is not signed"):
        documents.read_revocations(listing, [crypto.public_key_text(RESELLER)])


def test_perpetual_licenses_need_no_expiry_and_carry_updates_until():
    text = license_text(DEPLOYMENT, kind="perpetual", expires=None,
                        updates_until=date(2027, 3, 20))
    lic = verify(text)
    assert lic.expires_at is None and lic.grace_until is None
    assert lic.updates_until.date() == date(2027, 3, 20)
    with pytest.raises(LicenseError, match="subscription license needs an expiry date"):
        license_text(DEPLOYMENT, expires=None)


def test_a_certificate_is_not_a_license():
    with pytest.raises(documents.DocumentError, match="this is not a license file"):
        verify(CERT)
