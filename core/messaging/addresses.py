"""Canonical addresses (what the opt-out list and the logs store) and the opt-out list."""

from sqlalchemy import delete, select

from core.extensions import db
from core.messaging.models import CHANNELS, OptOut
from core.validators import canonical_mobile


def canonical_email(address: str) -> str:
    """An email address trimmed and lower-cased; raises ``ValueError`` when it is not one."""
    text = (address or "").strip()
    if "<" in text and text.endswith(">"):  # "Name <a@b.ir>"
        text = text[text.rindex("<") + 1:-1].strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text):
        raise ValueError(f"{address!r} is not an email address")
    return text.lower()


def canonical(channel: str, address: str) -> str:
    """The canonical form of ``address`` on ``channel`` (mobiles as +989XXXXXXXXX)."""
    if channel == "email":
        return canonical_email(address)
    if channel == "sms":
        return canonical_mobile(address)
    raise ValueError(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")


def opt_out(channel: str, address: str, reason: str = "") -> bool:
    """Stop all messages on ``channel`` to ``address`` (caller commits); False if already out."""
    address = canonical(channel, address)
    if is_opted_out(channel, address):
        return False
    db.session.add(OptOut(channel=channel, address=address, reason=reason[:200]))
    db.session.flush()
    return True


def opt_in(channel: str, address: str) -> bool:
    """Take ``address`` off the opt-out list of ``channel`` (caller commits)."""
    address = canonical(channel, address)
    result = db.session.execute(
        delete(OptOut).where(OptOut.channel == channel, OptOut.address == address)
    )
    return result.rowcount > 0


def is_opted_out(channel: str, address: str) -> bool:
    """Whether ``address`` asked not to receive messages on ``channel``."""
    address = canonical(channel, address)
    found = db.session.execute(
        select(OptOut.id).where(OptOut.channel == channel, OptOut.address == address)
    ).first()
    return found is not None
