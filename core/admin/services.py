"""User, role and seat rules, callable from views, the API and the CLI alike."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.audit import record
from core.auth.models import Role, Seat, User
from core.auth.passwords import hash_password
from core.database import lock
from core.extensions import db


class SeatError(ValueError):
    """A seat cannot be given; the message says why in words an admin understands."""


def seats_used(module: str) -> int:
    """Seats taken in ``module`` by active users."""
    return db.session.execute(
        select(func.count(Seat.id)).join(User).where(Seat.module == module, User.active.is_(True))
    ).scalar_one()


def assign_seat(user: User, module: str) -> Seat:
    """Give ``user`` a seat in ``module``, refused when the license has none left.

    The named lock makes two admins racing for the last seat run one after the other,
    so at most one of them wins, on SQLite and PostgreSQL alike. Commits.
    """
    from core import licensing
    from core.modules import registry

    if module not in registry().installed:
        raise SeatError(_("There is no module called %(module)s.", module=module))
    lock(f"seats:{module}")
    existing = db.session.execute(
        select(Seat).where(Seat.user_id == user.id, Seat.module == module)
    ).scalar()
    if existing is not None:
        db.session.commit()
        return existing
    limit = licensing.current_state().seats_for(module)
    used = seats_used(module)
    if used >= limit:
        db.session.rollback()
        raise SeatError(
            _("No free seat in %(module)s: all %(limit)d seats of the license are taken. "
              "Free a seat or ask your reseller for more.", module=module, limit=limit)
        )
    seat = Seat(user_id=user.id, module=module)
    db.session.add(seat)
    record("seat.assign", target=f"user:{user.id}", detail={"module": module})
    db.session.commit()
    return seat


def release_seat(user: User, module: str) -> None:
    """Take ``user``'s seat in ``module`` back. Commits."""
    seat = db.session.execute(
        select(Seat).where(Seat.user_id == user.id, Seat.module == module)
    ).scalar()
    if seat is not None:
        db.session.delete(seat)
        record("seat.release", target=f"user:{user.id}", detail={"module": module})
    db.session.commit()


def deactivate_user(user: User) -> None:
    """Deactivate a user: they can no longer sign in and their seats are freed. Commits."""
    user.active = False
    for seat in list(user.seats):
        db.session.delete(seat)
    record("user.deactivate", target=f"user:{user.id}")
    db.session.commit()


def role_by_name(name: str) -> Role:
    role = db.session.execute(select(Role).where(Role.name == name)).scalar()
    if role is None:
        names = ", ".join(db.session.execute(select(Role.name)).scalars())
        raise ValueError(_("There is no role called %(name)s (roles: %(names)s).",
                           name=name, names=names))
    return role


def create_or_update_user(*, email: str, password: str | None, role_name: str, name: str = "",
                          seats: list[str] = (), locale: str | None = None) -> User:
    """Create a user or update an existing one; then give the named seats. Commits."""
    email = email.strip().lower()
    role = role_by_name(role_name)
    user = db.session.execute(select(User).where(User.email == email)).scalar()
    if user is None:
        user = User(email=email, name=name or email.split("@")[0], role=role, locale=locale)
        db.session.add(user)
    else:
        user.role = role
        if name:
            user.name = name
    if password:
        user.password_hash = hash_password(password)
    db.session.commit()
    for module in seats:
        assign_seat(user, module)
    return user
