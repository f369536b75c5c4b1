"""The club's periodic jobs and its CLI (``flask --app wsgi crm loyalty ...``).

- ``loyalty.release``: pending points whose return window has passed become available;
- ``loyalty.expire``: points past their expiry date expire (run twice, it expires once);
- ``loyalty.expiry_warning``: a member hears once per lot, ``WARN_DAYS`` before it expires.

Each job does nothing while the module is inactive (``core.jobs.job``).
"""

import logging
from collections import defaultdict
from datetime import date, timedelta

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, update

from core import jobs
from core.extensions import db
from modules.loyalty import ledger
from modules.loyalty.models.ledger import Lot
from modules.loyalty.models.members import Member

log = logging.getLogger(__name__)

EVERY_SECONDS = 3600  # the day changes once; hourly is soon enough and cheap
WARN_DAYS = 30


def register(app) -> None:
    jobs.periodic("loyalty.release", EVERY_SECONDS, run_release)
    jobs.periodic("loyalty.expire", EVERY_SECONDS, run_expire)
    jobs.periodic("loyalty.expiry_warning", EVERY_SECONDS, run_expiry_warning)
    register_cli()


@jobs.job(module="loyalty")
def run_release() -> int:
    return ledger.release_due()


@jobs.job(module="loyalty")
def run_expire() -> int:
    return ledger.expire_due()


@jobs.job(module="loyalty")
def run_expiry_warning() -> int:
    return warn_expiring()


def warn_expiring(day: date | None = None, within_days: int = WARN_DAYS) -> int:
    """Tell active members about their lots expiring within ``within_days``, once per lot.

    A lot is claimed by a conditional update of its ``warned_on`` (committed before the
    message goes), so two workers never warn twice; returns the members told."""
    day = day or ledger.today()
    rows = db.session.execute(
        select(Lot.id, Lot.member_id).join(Member, Member.id == Lot.member_id).where(
            Lot.status == "available", Lot.remaining > 0, Lot.warned_on.is_(None),
            Lot.expires_on.is_not(None), Lot.expires_on >= day,
            Lot.expires_on <= day + timedelta(days=within_days), Member.status == "active")
        .order_by(Lot.member_id, Lot.id)).all()
    db.session.commit()
    by_member: dict[int, list[int]] = defaultdict(list)
    for lot_id, member_id in rows:
        by_member[member_id].append(lot_id)
    from modules.loyalty import notify

    send = getattr(notify, "points_expiring", None)
    told = 0
    for member_id, lot_ids in by_member.items():
        claimed = [lot_id for lot_id in lot_ids if db.session.execute(
            update(Lot).where(Lot.id == lot_id, Lot.warned_on.is_(None)).values(warned_on=day)
            .execution_options(synchronize_session=False)).rowcount == 1]
        db.session.commit()
        if not claimed:
            continue
        told += 1
        if send is None:
            continue
        member = db.session.get(Member, member_id)
        lots = list(db.session.execute(select(Lot).where(Lot.id.in_(claimed))
                                       .order_by(Lot.expires_on, Lot.id)).scalars())
        try:
            send(member, lots)
            db.session.commit()
        except Exception:  # noqa: BLE001 - one member's message never stops the others
            db.session.rollback()
            log.exception("loyalty: expiry warning for member %s failed", member_id)
    return told


# --- CLI -----------------------------------------------------------------------------------

def register_cli() -> None:
    """``flask crm loyalty expire|release|verify``."""
    from core.cli import crm

    group = crm.commands.get("loyalty")
    if group is None:
        group = AppGroup("loyalty", help="Customer club.")
        crm.add_command(group)
    for command in (expire_command, release_command, verify_command):
        if command.name not in group.commands:
            group.add_command(command)


@click.command("expire")
@with_appcontext
def expire_command() -> None:
    """Expire points past their date now (what the periodic job does)."""
    click.echo(f"Members with expired points: {ledger.expire_due()}")


@click.command("release")
@with_appcontext
def release_command() -> None:
    """Make pending points whose return window has passed available now."""
    click.echo(f"Members with released points: {ledger.release_due()}")


@click.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check every member's ledger (balances = sum of entries = sum of lots)."""
    bad = 0
    count = 0
    last = 0
    while True:
        members = list(db.session.execute(select(Member).where(Member.id > last)
                                          .order_by(Member.id).limit(500)).scalars())
        if not members:
            break
        for member in members:
            count += 1
            found = ledger.problems(member)
            if found:
                bad += 1
                click.echo(f"member {member.id} ({member.card_number}): " + "; ".join(found))
        last = members[-1].id
        db.session.expunge_all()
    click.echo(f"{count} members checked, {bad} with problems")
    if bad:
        raise SystemExit(1)
