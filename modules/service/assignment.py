"""Assignment: round-robin among the active agents of a team."""

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from core.auth.models import Role, Seat, User
from core.extensions import db
from modules.service.models.tickets import TeamCursor, Ticket


def _can_work(role: Role) -> bool:
    granted = role.permissions or []
    return "*" in granted or "service.work" in granted or "service.manage" in granted


def team_agents(team_id: int) -> list[int]:
    """Ids of the team's active users with a service seat or the right to work on tickets."""
    seated = exists().where(Seat.user_id == User.id, Seat.module == "service")
    rows = db.session.execute(
        select(User.id, User.role_id, seated.label("seated"))
        .where(User.team_id == team_id, User.active.is_(True)).order_by(User.id)).all()
    roles = {r.id: r for r in db.session.execute(select(Role)).scalars()}
    return [uid for uid, role_id, has_seat in rows
            if has_seat or (role_id in roles and _can_work(roles[role_id]))]


def _locked_cursor(team_id: int) -> TeamCursor:
    """The team's cursor row, locked (``FOR UPDATE``) until the transaction ends."""
    stmt = select(TeamCursor).where(TeamCursor.team_id == team_id).with_for_update()
    cursor = db.session.execute(stmt).scalar()
    if cursor is not None:
        return cursor
    try:
        with db.session.begin_nested():
            db.session.add(TeamCursor(team_id=team_id, last_user_id=None))
    except IntegrityError:  # another transaction created it first: wait for its lock
        pass
    return db.session.execute(stmt.execution_options(populate_existing=True)).scalar_one()


def next_agent(team_id: int) -> int | None:
    """Move the team's cursor to its next agent and return that agent's id (None: nobody)."""
    agents = team_agents(team_id)
    if not agents:
        return None
    cursor = _locked_cursor(team_id)
    after = [uid for uid in agents if cursor.last_user_id is not None
             and uid > cursor.last_user_id]
    chosen = after[0] if after else agents[0]
    cursor.last_user_id = chosen
    db.session.flush()
    return chosen


def round_robin(ticket: Ticket, at: datetime | None = None) -> None:
    """Give ``ticket`` to the next agent of its team (nothing happens without a team/agent)."""
    if ticket.team_id is None:
        return
    chosen = next_agent(ticket.team_id)
    if chosen is None:
        return
    from modules.service.tickets import record_event

    record_event(ticket, "assign", old=str(ticket.owner_id or ""), new=str(chosen), at=at,
                 data={"team": ticket.team_id, "how": "round_robin"})
    ticket.owner_id = chosen


__all__ = ["next_agent", "round_robin", "team_agents"]
