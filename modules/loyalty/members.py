"""Enrolment: a customer becomes a member with a card number and a referral code.

``enrol(customer, via=...)`` is idempotent (a customer is a member once); ``opt_out`` keeps
the member and their ledger but stops earning and messages; ``rejoin`` undoes it.
"""

import secrets

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.database import utcnow
from core.extensions import db
from modules.loyalty.ledger import LedgerError
from modules.loyalty.models.members import ENROL_CHANNELS, Member

CARD_PREFIX = "7960"  # 16 digits: prefix, 11 random digits, a Luhn check digit
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def luhn_digit(number: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def valid_card_number(number: str) -> bool:
    return (len(number) == 16 and number.isdigit()
            and luhn_digit(number[:-1]) == number[-1])


def new_card_number() -> str:
    body = CARD_PREFIX + "".join(secrets.choice("0123456789") for _ in range(11))
    return body + luhn_digit(body)


def new_referral_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def member_of(customer_id: int) -> Member | None:
    return db.session.execute(select(Member).where(Member.customer_id == customer_id)).scalar()


def by_card(number: str) -> Member | None:
    return db.session.execute(select(Member).where(Member.card_number == number)).scalar()


def by_referral_code(code: str) -> Member | None:
    code = (code or "").strip().upper()
    return db.session.execute(select(Member).where(Member.referral_code == code)).scalar()


def enrol(customer, *, via: str = "manual", referred_by: Member | None = None) -> Member:
    """The customer's membership, created now if they had none."""
    if via not in ENROL_CHANNELS:
        raise ValueError(f"unknown enrolment channel {via!r}")
    existing = member_of(customer.id)
    if existing is not None:
        return existing
    for _attempt in range(5):
        member = Member(customer_id=customer.id, card_number=new_card_number(),
                        referral_code=new_referral_code(), enrolled_via=via,
                        enrolled_at=utcnow(), owner_id=customer.owner_id,
                        team_id=customer.team_id, status="active", balance=0, pending=0,
                        lifetime_earned=0, lifetime_redeemed=0,
                        referred_by_id=getattr(referred_by, "id", None))
        try:
            with db.session.begin_nested():
                db.session.add(member)
            break
        except IntegrityError:
            existing = member_of(customer.id)  # a racing enrolment of the same customer
            if existing is not None:
                return existing
    else:  # pragma: no cover - five colliding random numbers
        raise LedgerError(_("Could not give a card number; try again."))
    from modules.loyalty import hooks

    hooks.member_enrolled(member)
    return member


def opt_out(member: Member) -> None:
    member.status, member.opted_out_at = "opted_out", utcnow()
    db.session.flush()


def rejoin(member: Member) -> None:
    member.status, member.opted_out_at = "active", None
    db.session.flush()
