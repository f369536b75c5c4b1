"""What people read for a ledger entry's reference.

An entry's ``reference`` is a machine key (``sales.invoice:12``, ``loyalty.reward:3``) that
earning, refunds and reports match on; people see the document's name instead ("Invoice
۱۴۰۵-۱", the reward's name).
"""

from flask_babel import gettext as _

from core.extensions import db
from core.i18n import digits, isolate


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def reference_label(reference: str | None) -> str:
    """The reference as people name it, in the reader's language and digits ("" for none)."""
    if not reference:
        return ""
    kind, _sep, rest = reference.partition(":")
    number = _number(rest)
    if kind == "sales.invoice" and number is not None:
        from modules.sales.services import document_title, invoice_by_id

        invoice = invoice_by_id(number)
        return document_title(invoice) if invoice is not None else _("Deleted invoice")
    if kind == "loyalty.reward" and number is not None:
        from modules.loyalty.models.rewards import Reward
        from modules.loyalty.rewards import reward_name

        reward = db.session.get(Reward, number)
        return reward_name(reward) if reward is not None else _("Deleted reward")
    if kind == "loyalty.referral":
        return _("Referral")
    if kind == "loyalty.birthday" and number is not None:
        return _("Birthday %(year)s", year=digits(number))
    if kind == "loyalty.anniversary" and number is not None:
        return _("Club anniversary %(year)s", year=digits(number))
    if kind == "api" and rest:
        return isolate(digits(rest))
    return isolate(digits(reference))


def register(app) -> None:
    """Templates name references with ``loyalty_reference(entry.reference)``."""
    app.jinja_env.globals["loyalty_reference"] = reference_label
