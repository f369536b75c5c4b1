"""E-invoices for the taxpayers' system (سامانه مؤدیان): the tax id and the payload.

The payload of a posted document has three sections, with the field names of the tax
authority's e-invoice specification (amounts in whole rials, times in milliseconds since
1970-01-01 UTC):

- ``header``: ``taxid`` (below), ``indatim``/``indati2m`` issue and creation time, ``inty``
  type (1 with the buyer's details, 2 without), ``inno`` internal serial, ``inp`` pattern (1
  sales), ``ins`` subject (1 main, 2 corrective, 3 cancellation, 4 return), ``irtaxid`` the
  tax id of the invoice a corrective invoice or a return refers to, ``tins`` the seller's
  economic code, ``tob``/``bid``/``tinb``/``bpc`` the buyer (type, national code or id,
  economic code, postal code), the totals ``tprdis`` (before discounts), ``tdis``
  (discounts), ``tadis`` (after discounts), ``tvam`` (VAT), ``todam`` (other duties) and
  ``tbill``, the settlement ``setm`` (1 cash, 2 credit, 3 both) with ``cap`` paid and
  ``insp`` on credit;
- ``body``: one row per invoice line: ``sstid`` the 13-digit product/service id, ``sstt``
  description, ``am`` quantity, ``mu`` unit code, ``fee`` unit price, ``prdis``, ``dis``,
  ``adis``, ``vra`` VAT rate (percent), ``vam``, ``odam``, ``olam``, ``tsstam`` row total;
- ``payments``: what was paid on the invoice when it was reported: ``trn`` tracking number,
  ``pdt`` time, ``pmt`` method, ``pv`` amount (``iinn``/``acn``/``trmn``/``pcn`` when known).

A posted invoice gives subject 1, a corrective invoice (``original_id`` set, kind invoice)
subject 2 and a credit note subject 4 (a return), both with ``irtaxid``. The credit note that
sales writes when a corrective invoice replaces the original is not reported: the corrective
invoice already tells the authority. Every payload is checked against
``schemas/moadian_invoice.schema.json`` (JSON Schema 2020-12, kept in the repository) and its
sums are checked in code (``validate``): a payload that fails is never stored as ready.

The tax id (شماره منحصر به فرد مالیاتی) has 22 characters: the taxpayer's memory id (شناسه
یکتای حافظه مالیاتی, 6 characters, a setting), the days from 1970-01-01 to the issue time in
hex (5), the serial in hex (10) and one Verhoeff check digit. The check digit is computed over
the decimal form: the memory id with each letter written as its ASCII code (digits kept), then
the days in decimal padded to 6 digits, then the serial in decimal padded to 12. This follows
the tax authority's SDK as published in ports such as AnasysSoft/Anasys.TaxCollectData
(``Business/TaxIdGenerator.cs`` and ``Business/VerhoffProvider.cs``, the standard Verhoeff
tables) and the structure the software vendors document (sppcco.com "شماره منحصر به فرد
مالیاتی", dariksoft.com: 6 + 5 + 10 + 1 characters). Three real tax ids quoted in public
clients (A278R704C75000163ECF64, A2HEZ304D010021C3C5D15, A2HGPP04F5E00227BB8965) carry the
check digit this code computes; the tests keep them.

Records, the settings and the submission connector are in ``moadian_submit``.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from core.i18n import TEHRAN, to_latin_digits

SCHEMA_PATH = Path(__file__).parent / "schemas" / "moadian_invoice.schema.json"
MAIN, CORRECTIVE, CANCELLATION, RETURN = 1, 2, 3, 4
DEFAULT_UNIT_CODE = "1627"  # «عدد» (piece) in the authority's table of units
PAYMENT_METHODS = {"cheque": 1, "cash": 3, "card": 4, "transfer": 7}  # pmt codes
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_SERIAL = 10 ** 12 - 1  # the decimal form keeps 12 digits of it

_D = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
      (2, 3, 4, 0, 1, 7, 8, 9, 5, 6), (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
      (4, 0, 1, 2, 3, 9, 5, 6, 7, 8), (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
      (6, 5, 9, 8, 7, 1, 0, 4, 3, 2), (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
      (8, 7, 6, 5, 9, 3, 2, 1, 0, 4), (9, 8, 7, 6, 5, 4, 3, 2, 1, 0))
_P = ((0, 1, 2, 3, 4, 5, 6, 7, 8, 9), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
      (5, 8, 0, 3, 7, 9, 6, 1, 4, 2), (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
      (9, 4, 5, 3, 1, 2, 6, 8, 7, 0), (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
      (2, 7, 9, 3, 8, 0, 6, 4, 1, 5), (7, 0, 4, 6, 9, 1, 3, 2, 5, 8))
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)
TAX_ID = re.compile(r"[A-Z0-9]{6}[0-9A-F]{15}[0-9]")


class MoadianError(ValueError):
    """An e-invoice that cannot be built or is not valid; the message says what to fix."""


class NotReported(MoadianError):
    """A document the tax authority hears about through another e-invoice."""


# --- the tax id ----------------------------------------------------------------------------

def verhoeff_digit(number: str) -> int:
    """The Verhoeff check digit of a string of decimal digits."""
    check = 0
    for i, digit in enumerate(reversed(number)):
        check = _D[check][_P[(i + 1) % 8][int(digit)]]
    return _INV[check]


def verhoeff_valid(number: str) -> bool:
    """Whether the last digit of ``number`` is the Verhoeff check digit of the rest."""
    check = 0
    for i, digit in enumerate(reversed(number)):
        check = _D[check][_P[i % 8][int(digit)]]
    return check == 0


def check_memory_id(value) -> str:
    """The memory id in canonical form (6 Latin letters or digits, upper case)."""
    text = to_latin_digits(str(value or "")).strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{6}", text):
        raise MoadianError(_("The memory id (شناسه یکتای حافظه مالیاتی) is 6 Latin letters or "
                             "digits, as the taxpayers' system issued it; set it in the "
                             "e-invoice settings."))
    return text


def decimal_form(memory_id: str) -> str:
    """The memory id with each letter as its ASCII code: ``A1B2C3`` → ``651662673``."""
    return "".join(ch if ch.isdigit() else str(ord(ch)) for ch in memory_id)


def epoch_days(moment: datetime) -> int:
    """Whole days from 1970-01-01 UTC to ``moment`` (a naive datetime is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(days=1)


def tax_id(memory_id: str, issued_at: datetime, serial: int) -> str:
    """The 22-character tax id of an invoice issued at ``issued_at`` with ``serial``."""
    memory = check_memory_id(memory_id)
    days = epoch_days(issued_at)
    if not 0 < serial <= MAX_SERIAL:
        raise MoadianError(_("The e-invoice serial must be between 1 and %(max)s.",
                             max=MAX_SERIAL))
    control = f"{decimal_form(memory)}{days:06d}{serial:012d}"
    return f"{memory}{days:05X}{serial:010X}{verhoeff_digit(control)}"


def is_valid_tax_id(value: str) -> bool:
    """Whether ``value`` is a well-formed tax id whose check digit is right."""
    if not isinstance(value, str) or not TAX_ID.fullmatch(value):
        return False
    days, serial = int(value[6:11], 16), int(value[11:21], 16)
    if serial > MAX_SERIAL:
        return False
    return verhoeff_valid(f"{decimal_form(value[:6])}{days:06d}{serial:012d}{value[21]}")


# --- the payload ---------------------------------------------------------------------------

def subject_of(invoice) -> int:
    """1 main, 2 corrective (an invoice that replaces another), 4 return (a credit note)."""
    if invoice.kind == "credit_note":
        return RETURN
    return CORRECTIVE if invoice.original_id else MAIN


def millis(value) -> int:
    """Milliseconds since 1970 UTC of a datetime (naive = UTC) or a date (Tehran midnight)."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time(), tzinfo=TEHRAN)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // timedelta(milliseconds=1)


def _number(value: int | float):
    return int(value) if float(value).is_integer() else value


def _buyer(invoice) -> dict:
    """inty and the buyer's fields: a buyer with a national code/id or economic code is type 1."""
    organisation = getattr(invoice.customer, "kind", "person") == "organisation"
    bid = (invoice.buyer_national_id if organisation else invoice.buyer_national_code) or ""
    tinb = invoice.buyer_economic_code or ""
    if not (bid or tinb):
        return {"inty": 2}
    fields = {"inty": 1, "tob": 2 if organisation else 1}
    if bid:
        fields["bid"] = bid
    if tinb:
        fields["tinb"] = tinb
    if invoice.buyer_postal_code:
        fields["bpc"] = invoice.buyer_postal_code
    return fields


def _row(line, sstid: str, unit_code: str) -> dict:
    discount = int(line.discount or 0) + int(line.document_discount or 0)
    return {"sstid": sstid, "sstt": (line.description or "")[:400],
            "am": _number(line.quantity / 1000), "mu": unit_code,
            "fee": int(line.unit_price), "prdis": int(line.gross),
            "dis": discount, "adis": int(line.taxable), "vra": _number(line.vat_rate_bp / 100),
            "vam": int(line.vat), "odam": 0, "olam": 0, "tsstam": int(line.total)}


def _payment(paid: dict) -> dict:
    row = {"pdt": millis(paid["received_on"]), "pmt": PAYMENT_METHODS.get(paid["method"], 8),
           "pv": int(paid["amount"])}
    tracking = paid.get("sayad_number") or paid.get("reference") or ""
    if tracking:
        row["trn"] = to_latin_digits(tracking)[:40]
    return row


def build_payload(invoice, *, tax_id: str, serial: int, referenced_tax_id: str | None = None,
                  sstids: list[str], unit_code: str = DEFAULT_UNIT_CODE,
                  payments: list[dict] = (), seller: str = "") -> dict:
    """The payload of a posted invoice or credit note (see the module docstring).

    ``sstids`` gives the product/service id of each line, ``payments`` what was paid on it
    (``modules.sales.services.invoice_payments``; bounced cheques are left out), ``seller``
    the seller's economic code when the invoice's own snapshot has none.
    """
    subject = subject_of(invoice)
    body = [_row(line, sstid, unit_code)
            for line, sstid in zip(invoice.lines, sstids, strict=True)]
    paid = [_payment(p) for p in payments if p["status"] != "bounced" and p["amount"] > 0]
    total = sum(row["tsstam"] for row in body)
    cash = min(total, sum(p["pv"] for p in paid))
    posted = invoice.posted_at
    header = {
        "taxid": tax_id, "indatim": millis(posted), "indati2m": millis(posted),
        **_buyer(invoice), "inno": f"{serial:010X}", "inp": 1, "ins": subject,
        "tins": to_latin_digits(invoice.seller_economic_code or seller),
        "tprdis": sum(row["prdis"] for row in body), "tdis": sum(row["dis"] for row in body),
        "tadis": sum(row["adis"] for row in body), "tvam": sum(row["vam"] for row in body),
        "todam": sum(row["odam"] + row["olam"] for row in body), "tbill": total,
        "setm": 1 if cash == total else (3 if cash else 2), "cap": cash, "insp": total - cash,
    }
    if referenced_tax_id:
        header["irtaxid"] = referenced_tax_id
    return {"header": header, "body": body, "payments": paid, "extension": None}


# --- validation ----------------------------------------------------------------------------

@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def _where(path) -> str:
    """``body[0].fee`` from a jsonschema path."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or _("the payload")


def _title(path) -> str | None:
    """The schema's title of the field at ``path`` (``["body", 0, "fee"]`` → "unit price")."""
    node = schema()
    for part in path:
        ref = node.get("$ref", "")
        if ref.startswith("#/$defs/"):
            node = schema()["$defs"][ref.removeprefix("#/$defs/")]
        node = node.get("items", {}) if isinstance(part, int) else \
            node.get("properties", {}).get(part, {})
    return node.get("title") if path else None


def schema_errors(payload: dict) -> list[str]:
    """What is wrong with ``payload`` by the schema, one readable sentence per error."""
    from jsonschema.exceptions import relevance

    errors = sorted(_validator().iter_errors(payload), key=relevance)
    messages = []
    for error in errors:
        title = _title(list(error.absolute_path))
        field = _where(error.absolute_path)
        where = f"{field} ({title})" if title else field
        messages.append(f"{where}: {error.message}")
    return messages


def sum_errors(payload: dict) -> list[str]:
    """The sums a schema cannot check: each row and the header add up."""
    problems = []
    for i, row in enumerate(payload.get("body") or []):
        if row.get("adis") != row.get("prdis", 0) - row.get("dis", 0):
            problems.append(f"body[{i}].adis: {row.get('adis')} != prdis - dis")
        if row.get("tsstam") != sum(row.get(k, 0) for k in ("adis", "vam", "odam", "olam")):
            problems.append(f"body[{i}].tsstam: {row.get('tsstam')} != adis + vam + odam + olam")
    header, body = payload.get("header") or {}, payload.get("body") or []
    for total, field in (("tprdis", "prdis"), ("tdis", "dis"), ("tadis", "adis"),
                         ("tvam", "vam"), ("tbill", "tsstam")):
        if header.get(total) != sum(row.get(field, 0) for row in body):
            problems.append(f"header.{total}: {header.get(total)} != sum of body.{field}")
    if header.get("tbill") != sum(header.get(k, 0) for k in ("tadis", "tvam", "todam")):
        problems.append(f"header.tbill: {header.get('tbill')} != tadis + tvam + todam")
    if header.get("cap", 0) + header.get("insp", 0) != header.get("tbill"):
        problems.append(f"header.cap + header.insp != tbill ({header.get('tbill')})")
    if "taxid" in header and not is_valid_tax_id(header["taxid"]):
        problems.append(f"header.taxid: {header['taxid']} has a wrong check digit")
    return problems


def validate(payload: dict) -> None:
    """Refuse a payload that breaks the schema or whose sums do not add up."""
    problems = schema_errors(payload)
    if not problems:
        problems = sum_errors(payload)
    if problems:
        raise MoadianError(_("The e-invoice is not valid: %(problems)s",
                             problems="; ".join(problems)))


def register(app) -> None:
    """Listen for posted invoices and register the submission connector."""
    from modules.accounting_link import moadian_submit

    moadian_submit.register(app)
