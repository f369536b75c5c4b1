"""Helpers for the performance, target and widget tests: salespeople in teams, deals closed
and invoices posted at chosen instants (Tehran time)."""

from datetime import datetime, time, timedelta

import jdatetime
from sqlalchemy import update

from core.extensions import db
from core.i18n import TEHRAN
from tests.modules.sales.deal_helpers import make_deal

PEOPLE = {  # email: (name, role, team, seats); the trial license has three sales seats
    "ali@example.ir": ("علی", "agent", "تهران", ["sales"]),
    "sara@example.ir": ("سارا", "agent", "تهران", []),
    "lead@example.ir": ("لیلا", "manager", "تهران", ["sales"]),
    "reza@example.ir": ("رضا", "agent", "شیراز", []),
}


def tehran(year, month, day, hour=12, minute=0) -> datetime:
    """A Jalali date and Tehran wall time as an aware UTC datetime."""
    from datetime import UTC

    day = jdatetime.date(year, month, day).togregorian()
    return datetime.combine(day, time(hour, minute), tzinfo=TEHRAN).astimezone(UTC)


def make_team(app, make_user) -> dict[str, int]:
    """The people above in two teams; returns {email: user id}."""
    from core.auth.models import Team, User

    for email, (name, role, _team, seats) in PEOPLE.items():
        make_user(email, role=role, name=name, seats=seats, locale="fa")
    with app.app_context():
        teams = {n: Team(name=n) for n in {p[2] for p in PEOPLE.values()}}
        db.session.add_all(teams.values())
        db.session.flush()
        ids = {}
        for email, (_name, _role, team, _seats) in PEOPLE.items():
            user = db.session.query(User).filter_by(email=email).one()
            user.team_id = teams[team].id
            ids[email] = user.id
        db.session.commit()
        return ids


def closed_deal(app, owner_email, customer_id, stage_id, value, status, closed_at,
                days_open) -> int:
    """A deal won or lost at ``closed_at`` that was created ``days_open`` days before."""
    from modules.sales.models.pipeline import Deal
    from modules.sales.pipeline import close_deal

    deal_id = make_deal(app, owner_email, customer_id, stage_id, value=value)
    with app.test_request_context():
        close_deal(db.session.get(Deal, deal_id), status, lost_reason="گران بود")
        db.session.execute(update(Deal).where(Deal.id == deal_id).values(
            closed_at=closed_at, created_at=closed_at - timedelta(days=days_open)))
        db.session.commit()
    return deal_id


def set_posted_at(app, invoice_id, when, **values) -> None:
    """Move a posted invoice's posting instant (a plain UPDATE, as in a data fix)."""
    from modules.sales.models.documents import Invoice

    with app.app_context():
        db.session.execute(update(Invoice).where(Invoice.id == invoice_id).values(
            posted_at=when, **values))
        db.session.commit()


def total_of(app, invoice_id) -> int:
    from modules.sales.models.documents import Invoice

    with app.app_context():
        return db.session.get(Invoice, invoice_id).total
