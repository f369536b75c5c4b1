"""Signed documents: canonical JSON, Ed25519 signatures with a prefix per type, text armour.

A document is armoured canonical JSON ``{"payload": {...}, "signature": "...", "type": "..."}``.
The signature covers ``PREFIX[type] + canonical(payload)``. Reading a document insists that
every layer is in its one canonical form (armour lines, base64, JSON), so any changed byte is
refused even where it would still decode to the same data.
"""

import base64
import binascii
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

LICENSE = "license"
CERTIFICATE = "reseller-certificate"
REVOCATIONS = "revocation-list"

PREFIXES = {
    LICENSE: b"peyvand-license-v1\n",
    CERTIFICATE: b"peyvand-reseller-cert-v1\n",
    REVOCATIONS: b"peyvand-revocations-v1\n",
}
ARMOUR = {
    LICENSE: "PEYVAND LICENSE",
    CERTIFICATE: "PEYVAND RESELLER CERTIFICATE",
    REVOCATIONS: "PEYVAND REVOCATION LIST",
}
WHAT = {
    LICENSE: _l("license file"),
    CERTIFICATE: _l("reseller certificate"),
    REVOCATIONS: _l("revocation list"),
}
LINE = 64


class DocumentError(ValueError):
    """A document is damaged, unsigned or signed by the wrong key; the message says which."""


def canonical(obj) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    """Strict base64: refuses stray characters and non-canonical padding."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DocumentError(_("%(what)s is not valid base64", what=what)) from exc
    if b64(data) != text:
        raise DocumentError(_("%(what)s is not in canonical base64", what=what))
    return data


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_text(key: Ed25519PrivateKey) -> str:
    return b64(key.private_bytes_raw())


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64(public.public_bytes_raw())


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """A private key file as written by ``crm license keygen``."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(_("cannot read the key file %(path)s", path=str(path))) from exc
    raw = unb64(text, str(path))
    if len(raw) != 32:
        raise DocumentError(_("%(path)s is not a raw Ed25519 private key (32 bytes)",
                              path=str(path)))
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key(text: str) -> Ed25519PublicKey:
    """A base64 raw Ed25519 public key."""
    raw = unb64(text.strip(), _("the public key"))
    if len(raw) != 32:
        raise DocumentError(_("a public key must be 32 bytes of raw Ed25519"))
    return Ed25519PublicKey.from_public_bytes(raw)


def sign(kind: str, payload: dict, key: Ed25519PrivateKey) -> dict:
    """The signed envelope of ``payload`` as a document of type ``kind``."""
    signature = key.sign(PREFIXES[kind] + canonical(payload))
    return {"type": kind, "payload": payload, "signature": b64(signature)}


def signature_valid(envelope: dict, key: Ed25519PublicKey) -> bool:
    try:
        signature = unb64(envelope["signature"], "signature")
        key.verify(signature, PREFIXES[envelope["type"]] + canonical(envelope["payload"]))
    except (InvalidSignature, DocumentError):
        return False
    return True


def armour(envelope: dict) -> str:
    """Text armour: BEGIN line, base64 of the canonical envelope in 64-column lines, END line."""
    label = ARMOUR[envelope["type"]]
    body = b64(canonical(envelope))
    lines = [body[i:i + LINE] for i in range(0, len(body), LINE)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n"


def detect(text: str) -> str | None:
    """Which kind of document ``text`` claims to be, from its first armour line."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
    for kind, label in ARMOUR.items():
        if first == f"-----BEGIN {label}-----":
            return kind
    return None


def dearmour(text: str, kind: str) -> dict:
    """The envelope inside armoured ``text``; refuses any text that is not exactly canonical."""
    what = str(WHAT[kind])
    normalised = text.removeprefix("\ufeff").replace("\r\n", "\n")
    if not normalised.endswith("\n"):
        normalised += "\n"
    label = ARMOUR[kind]
    lines = normalised[:-1].split("\n")
    if len(lines) < 3 or lines[0] != f"-----BEGIN {label}-----" \
            or lines[-1] != f"-----END {label}-----":
        raise DocumentError(_("this is not a %(what)s: it must start with "
                              "-----BEGIN %(label)s----- and end with -----END %(label)s-----",
                              what=what, label=label))
    raw = unb64("".join(lines[1:-1]), what)
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DocumentError(_("the %(what)s is damaged (its content is not readable)",
                              what=what)) from exc
    if not isinstance(envelope, dict) or set(envelope) != {"type", "payload", "signature"} \
            or envelope["type"] != kind or not isinstance(envelope["payload"], dict) \
            or not isinstance(envelope["signature"], str):
        raise DocumentError(_("the %(what)s is damaged (unexpected structure)", what=what))
    try:
        again = armour(envelope)
    except ValueError as exc:  # NaN and the like cannot be canonical
        raise DocumentError(_("the %(what)s is damaged (its content is not canonical)",
                              what=what)) from exc
    if again != normalised:
        raise DocumentError(_("the %(what)s has been altered (it is not in its signed form)",
                              what=what))
    return envelope
