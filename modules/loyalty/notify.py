"""SMS to members: points earned, points about to expire, a tier change, a downgrade notice.

Each goes through ``core.messaging.send_sms`` (opt-out list, delivery log, outbox) only when
the member is active and the customer agreed to text messages and has a mobile; the text is
in the deployment's language with its digits and Jalali dates. A notice never fails the
caller: it is written in a savepoint, and any error is logged and dropped. Every message
carries the customer's key, so it shows on the customer's timeline; its outbox key makes a
second call for the same event send nothing more.
"""

import hashlib
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core import messaging
from core.database import get_setting
from core.extensions import db
from core.i18n import format_number, jdate
from core.outbox import OutboxMessage

log = logging.getLogger(__name__)
_quiet: ContextVar[bool] = ContextVar("loyalty_notify_quiet", default=False)


@contextmanager
def quiet():
    """No notices inside this block (demo data, bulk corrections)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def language() -> str:
    """The language members read: the deployment's display language."""
    return get_setting("display.language") or "fa"


def _mobile(member) -> str | None:
    """Where a notice to ``member`` goes, or None when none may be sent."""
    if member is None or member.status != "active":
        return None
    customer = member.customer
    if customer is None or customer.anonymised_at is not None or not customer.consent_sms:
        return None
    return customer.mobile


def _number(value, lang: str) -> str:
    return format_number(int(value), locale=lang)


def _tier_name(tier, lang: str) -> str:
    if tier is None:
        return _("no tier")
    return (tier.name_fa if lang == "fa" else tier.name_en) or tier.name_fa or tier.code


def _safe(func):
    """A notice that fails is logged and reported as not sent, never raised."""
    @wraps(func)
    def wrapped(member, *args, **kwargs) -> bool:
        try:
            return func(member, *args, **kwargs)
        except Exception:  # noqa: BLE001 - a notice must never undo the change it reports
            log.exception("loyalty notice %s for member %s failed", func.__name__,
                          getattr(member, "id", None))
            return False
    return wrapped


def _send(member, key: str, compose) -> bool:
    """Send ``compose(lang)``'s text to the member; True when it was queued."""
    if _quiet.get():
        return False
    try:
        mobile = _mobile(member)
        if not mobile:
            return False
        if db.session.execute(select(OutboxMessage.id).where(OutboxMessage.key == key)).first():
            return True  # this event's notice is already on its way
        lang = language()
        with force_locale(lang):
            text = compose(lang)
        if not text:
            return False
        with db.session.begin_nested():
            sent = messaging.send_sms(mobile, text, customer_key=f"customer:{member.customer_id}",
                                      key=key)
        return sent is not None
    except Exception:  # noqa: BLE001 - a notice must never undo the change it reports
        log.exception("loyalty notice %s for member %s not sent", key,
                      getattr(member, "id", None))
        return False


@_safe
def points_earned(member, entries) -> bool:
    """«N points added; your balance is B.» for the entries of one purchase or bonus."""
    entries = [e for e in entries or () if e is not None and e.points > 0]
    if not entries:
        return False
    points = sum(e.points for e in entries)
    waiting = sum(e.points for e in entries if e.bucket == "pending")

    def compose(lang):
        text = _("%(points)s points were added to your club card. Balance: %(balance)s points.",
                 points=_number(points, lang), balance=_number(member.balance, lang))
        if waiting:
            text += " " + _("%(points)s of them become usable after the return window.",
                            points=_number(waiting, lang))
        return text

    return _send(member, f"loyalty.earned.{min(e.id for e in entries)}", compose)


@_safe
def points_expiring(member, lots) -> bool:
    """«N points expire on D; use them before then.» for the lots expiring soon."""
    lots = [lot for lot in lots or () if lot.remaining > 0 and lot.expires_on is not None]
    if not lots:
        return False
    points = sum(lot.remaining for lot in lots)
    first = min(lot.expires_on for lot in lots)
    ids = ",".join(str(lot.id) for lot in sorted(lots, key=lambda lot: lot.id))
    digest = hashlib.sha256(ids.encode()).hexdigest()[:16]

    def compose(lang):
        return _("%(points)s of your club points expire from %(day)s. Use them before then; "
                 "balance: %(balance)s points.", points=_number(points, lang),
                 day=jdate(first, locale=lang), balance=_number(member.balance, lang))

    return _send(member, f"loyalty.expiring.{member.id}.{first.isoformat()}.{digest}", compose)


@_safe
def tier_changed(member, change) -> bool:
    """«You are now in tier X.» after an upgrade or a downgrade took effect."""
    if change is None:
        return False

    def compose(lang):
        name = _tier_name(change.to_tier, lang)
        if change.direction == "up":
            return _("Congratulations! Your club tier is now %(tier)s.", tier=name)
        return _("Your club tier is now %(tier)s.", tier=name)

    return _send(member, f"loyalty.tier.{change.id}", compose)


@_safe
def downgrade_notice(member, change) -> bool:
    """«On D your tier goes from X to Y unless you qualify again.» for a scheduled downgrade."""
    if change is None:
        return False

    def compose(lang):
        return _("On %(day)s your club tier changes from %(old)s to %(new)s, unless you "
                 "qualify again before then.", day=jdate(change.effective_at, locale=lang),
                 old=_tier_name(change.from_tier, lang), new=_tier_name(change.to_tier, lang))

    return _send(member, f"loyalty.downgrade.{change.id}", compose)


def register(app) -> None:
    """Nothing to wire: the earning, tier and expiry code call these functions."""
