"""E-invoice records, their settings and the submission connector (outbox ``accounting.moadian``).

Settings (``/accounting/moadian/settings``): the memory id (شناسه یکتای حافظه مالیاتی), the
default product/service id (شناسه کالا/خدمت, 13 digits; a product whose code is 13 digits uses
its own), the unit code, the endpoint and whether submission is enabled. While it is enabled,
every posted invoice, corrective invoice and credit note gets its e-invoice in the posting
transaction and a message in the outbox; the relay POSTs the payload as JSON to the endpoint
with ``Idempotency-Key`` (the message key, ``moadian:<tax id>``) and ``X-Moadian-Tax-Id``
headers, in order per document chain (an invoice before its corrective invoice or return),
retrying with backoff; a dead message can be retried from the deliveries page. Anything but a
2xx answer is a failure. When an e-invoice cannot be built (no economic code, say), posting
still succeeds and the record is kept as ``invalid`` with the reason.

What a deployment must add for the real tax authority API: the taxpayers' system accepts only
packets signed with the taxpayer's private key (JWS over the normalised invoice, RSA/SHA-256,
with the certificate the authority issued) and encrypted for the authority's public key, after
a signed token request. None of that is here: point the endpoint at a gateway (the software
vendor's, or a small service holding the key in an HSM) that signs, encrypts and forwards the
JSON it receives, and answers 2xx once the authority has taken the packet (its reference
number in the body is kept with the record).
"""

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from core import outbox
from core.database import get_setting, lock, set_setting, utcnow
from core.events import invoice_posted, module_listener
from core.extensions import db
from core.i18n import to_latin_digits
from modules.accounting_link import moadian
from modules.accounting_link.moadian import CORRECTIVE, RETURN, MoadianError, NotReported
from modules.accounting_link.models.moadian import EInvoice

KIND = "accounting.moadian"
USER_AGENT = "Peyvand-Moadian/1"
KEYS = {"memory_id": "accounting_link.moadian.memory_id",
        "endpoint": "accounting_link.moadian.endpoint",
        "enabled": "accounting_link.moadian.enabled",
        "sstid": "accounting_link.moadian.default_sstid",
        "unit_code": "accounting_link.moadian.unit_code"}


class MoadianDeliveryError(RuntimeError):
    """The endpoint did not take an e-invoice (the outbox retries it)."""


@dataclass(frozen=True)
class MoadianSettings:
    memory_id: str = ""
    endpoint: str = ""
    enabled: bool = False
    sstid: str = ""
    unit_code: str = moadian.DEFAULT_UNIT_CODE


def current_settings() -> MoadianSettings:
    return MoadianSettings(
        memory_id=get_setting(KEYS["memory_id"]) or "",
        endpoint=get_setting(KEYS["endpoint"]) or "",
        enabled=bool(get_setting(KEYS["enabled"])),
        sstid=get_setting(KEYS["sstid"]) or "",
        unit_code=get_setting(KEYS["unit_code"]) or moadian.DEFAULT_UNIT_CODE)


def clean_settings(*, memory_id="", endpoint="", enabled=False, sstid="",
                   unit_code="") -> tuple[MoadianSettings, dict[str, str]]:
    """Checked settings and the errors per field (empty when they can be saved)."""
    errors: dict[str, str] = {}
    memory = to_latin_digits(memory_id or "").strip().upper()
    if memory or enabled:
        try:
            memory = moadian.check_memory_id(memory)
        except MoadianError as exc:
            errors["memory_id"] = str(exc)
    url = (endpoint or "").strip()
    if url and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        errors["endpoint"] = _("Write the endpoint as a full address: https://host/path.")
    elif enabled and not url:
        errors["endpoint"] = _("Submission needs an endpoint to send the e-invoices to.")
    product = to_latin_digits(sstid or "").strip()
    if not re.fullmatch(r"\d{13}", product):
        errors["sstid"] = _("The product/service id is 13 digits, from the tax authority's "
                            "list of goods and services.")
    unit = to_latin_digits(unit_code or "").strip() or moadian.DEFAULT_UNIT_CODE
    if not re.fullmatch(r"\d{1,8}", unit):
        errors["unit_code"] = _("The unit code is a number from the tax authority's table of "
                                "units (1627 is a piece).")
    return MoadianSettings(memory, url, bool(enabled), product, unit), errors


def save_settings(settings: MoadianSettings) -> None:
    for field, key in KEYS.items():
        set_setting(key, getattr(settings, field))


# --- records -------------------------------------------------------------------------------

def record_of(invoice_id: int, subject: int | None = None) -> EInvoice | None:
    """The e-invoice of a document (of one subject, or its first)."""
    stmt = select(EInvoice).where(EInvoice.invoice_id == invoice_id)
    if subject is not None:
        stmt = stmt.where(EInvoice.subject == subject)
    return db.session.execute(stmt.order_by(EInvoice.id)).scalars().first()


def _next_serial() -> int:
    lock("accounting_link.moadian")
    return int(db.session.execute(select(func.coalesce(func.max(EInvoice.serial), 0)))
               .scalar()) + 1


def _referenced_tax_id(original, *, by) -> str:
    """The tax id of the invoice a corrective invoice or return refers to (built if needed)."""
    if original is None:
        raise MoadianError(_("The invoice this document corrects is missing."))
    found = record_of(original.id, moadian.subject_of(original))
    if found is None or found.status == "invalid":
        found = build_einvoice(original, by=by)
    return found.tax_id


def _sstids(invoice, default: str) -> list[str]:
    from modules.sales.services import products_by_ids

    products = products_by_ids({line.product_id for line in invoice.lines if line.product_id})
    codes = {pid: to_latin_digits(p.code or "") for pid, p in products.items()}
    return [codes[line.product_id] if re.fullmatch(r"\d{13}", codes.get(line.product_id, ""))
            else default for line in invoice.lines]


def _root_id(invoice) -> int:
    seen = invoice
    while seen.original is not None:
        seen = seen.original
    return seen.id


def build_einvoice(invoice, *, by=None, settings: MoadianSettings | None = None) -> EInvoice:
    """The e-invoice of a posted document: built, validated and stored once (idempotent);
    queued for submission while it is enabled. ``MoadianError`` says what is missing."""
    from modules.sales.services import invoice_payments, replaced_by

    if invoice.status != "posted":
        raise MoadianError(_("Only a posted invoice or credit note has an e-invoice."))
    subject = moadian.subject_of(invoice)
    if subject == RETURN and replaced_by(invoice.original) is not None:
        raise NotReported(_("This credit note closes an invoice that a corrective invoice "
                            "replaced; the corrective invoice's e-invoice reports it."))
    record = record_of(invoice.id, subject)
    if record is not None and record.status != "invalid":
        return record
    settings = settings or current_settings()
    memory_id = moadian.check_memory_id(settings.memory_id)
    if not re.fullmatch(r"\d{13}", settings.sstid or ""):
        raise MoadianError(_("Set the default product/service id (13 digits) in the e-invoice "
                             "settings."))
    seller = invoice.seller_economic_code or get_setting("company.economic_code") or ""
    if not seller:
        raise MoadianError(_("There is no seller economic code; set the company's economic "
                             "code in the settings, then build the e-invoice again."))
    referenced = (_referenced_tax_id(invoice.original, by=by)
                  if subject in (CORRECTIVE, RETURN) else None)
    serial = _next_serial()
    tax_id = moadian.tax_id(memory_id, invoice.posted_at, serial)
    payload = moadian.build_payload(
        invoice, tax_id=tax_id, serial=serial, referenced_tax_id=referenced, seller=seller,
        sstids=_sstids(invoice, settings.sstid), unit_code=settings.unit_code,
        payments=[] if subject == RETURN else invoice_payments(invoice.id))
    moadian.validate(payload)
    if record is None:
        record = EInvoice(invoice_id=invoice.id, subject=subject)
        db.session.add(record)
    record.reference = to_latin_digits(invoice.reference)
    record.serial, record.tax_id, record.referenced_tax_id = serial, tax_id, referenced
    record.payload, record.total = payload, payload["header"]["tbill"]
    record.status, record.last_error = "ready", ""
    record.created_by_id, record.created_at = getattr(by, "id", None), utcnow()
    db.session.flush()
    if settings.enabled:
        queue(record, aggregate=f"moadian:{_root_id(invoice)}")
    return record


def _keep_invalid(invoice, error: str) -> None:
    subject = moadian.subject_of(invoice)
    record = record_of(invoice.id, subject)
    if record is None:
        record = EInvoice(invoice_id=invoice.id, subject=subject, payload=None, total=0,
                          reference=to_latin_digits(invoice.reference or ""))
        db.session.add(record)
    record.status, record.last_error = "invalid", error[:2000]
    db.session.flush()


def queue(record: EInvoice, aggregate: str | None = None) -> None:
    """Put the e-invoice in the outbox (again, if it failed) and mark it pending."""
    key = f"moadian:{record.tax_id}"
    message = outbox.enqueue(KIND, {"einvoice_id": record.id, "tax_id": record.tax_id},
                             aggregate=aggregate or f"moadian:{record.invoice_id}", key=key)
    if message.status != "pending":
        outbox.retry(message.id)
    record.status = "pending"
    db.session.flush()


@module_listener("accounting_link")
def on_invoice_posted(_sender, invoice=None, **_kw) -> None:
    """While submission is enabled, build and queue the e-invoice with the posting."""
    if invoice is None or not get_setting(KEYS["enabled"]):
        return
    settings = current_settings()
    try:
        with db.session.begin_nested():
            build_einvoice(invoice, settings=settings)
    except NotReported:
        return
    except MoadianError as exc:  # posting goes on; the record says what to fix
        _keep_invalid(invoice, str(exc))


# --- the connector -------------------------------------------------------------------------

class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is not an answer: fail and retry


_opener = urllib.request.build_opener(_NoRedirects)


def payload_bytes(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def _set(einvoice_id: int, **values) -> None:
    db.session.execute(update(EInvoice).where(EInvoice.id == einvoice_id).values(**values))


def on_success(payload: dict, _message, result) -> None:
    _set(payload["einvoice_id"], status="sent", sent_at=utcnow(), last_error="",
         response=str(result)[:2000])


def on_failure(payload: dict, _message, error: str, dead: bool) -> None:
    _set(payload["einvoice_id"], status="failed" if dead else "pending",
         last_error=str(error)[:2000])


@outbox.handler(KIND, module="accounting_link", on_success=on_success, on_failure=on_failure)
def deliver(payload: dict, message) -> str:
    """POST one e-invoice to the configured endpoint; anything but 2xx raises (retried)."""
    record = db.session.get(EInvoice, payload["einvoice_id"])
    settings = current_settings()
    body = payload_bytes(record.payload) if record is not None else None
    db.session.rollback()  # no transaction stays open during network I/O
    if body is None:
        return "skipped: the e-invoice is gone"
    if not settings.enabled or not settings.endpoint:
        raise MoadianDeliveryError("e-invoice submission is switched off in the settings")
    request = urllib.request.Request(settings.endpoint, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
        "Idempotency-Key": message.key, "X-Moadian-Tax-Id": payload["tax_id"]})
    timeout = current_app.config.get("ACCOUNTING_TIMEOUT", 10)
    url = settings.endpoint
    try:
        with _opener.open(request, timeout=timeout) as response:
            status, answer = response.status, response.read(4000)
    except urllib.error.HTTPError as exc:
        raise MoadianDeliveryError(f"{url} answered {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise MoadianDeliveryError(f"{url} could not be reached: {exc}") from exc
    if not 200 <= status < 300:
        raise MoadianDeliveryError(f"{url} answered {status}")
    return f"{status} {answer.decode('utf-8', 'replace')}".strip()


def register(app) -> None:
    invoice_posted.connect(on_invoice_posted, weak=False)
