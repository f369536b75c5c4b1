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
        from core.i18n import digits

        raise SeatError(
            _("No free seat in %(module)s: all %(limit)s seats of the license are taken. "
              "Free a seat or ask your reseller for more.",
              module=registry().manifest(module).title, limit=digits(limit))
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


class AdminError(ValueError):
    """An admin action breaks a rule (last admin, own account...); the message says which."""


def active_admin_count() -> int:
    """Active users whose role is the built-in admin."""
    return db.session.execute(
        select(func.count(User.id)).join(Role).where(Role.name == "admin", User.active.is_(True))
    ).scalar_one()


def _guard_admin_loss(user: User, by: User | None, action: str) -> None:
    if by is not None and by.id == user.id:
        raise AdminError(_("You cannot %(action)s your own account.", action=action))
    if user.active and user.role.name == "admin" and active_admin_count() <= 1:
        raise AdminError(_("%(email)s is the last active admin; make someone else admin first.",
                           email=user.email))


def guarded_deactivate(user: User, *, by: User | None = None) -> None:
    """Deactivate ``user`` unless it is the acting admin or the last admin. Commits."""
    _guard_admin_loss(user, by, _("deactivate"))
    deactivate_user(user)


def reactivate_user(user: User) -> None:
    """Let a deactivated user sign in again (seats are given anew). Commits."""
    user.active = True
    record("user.reactivate", target=f"user:{user.id}")
    db.session.commit()


def reset_totp(user: User) -> None:
    """Remove ``user``'s one-time-password app so they sign in with the password alone. Commits."""
    user.totp_secret = None
    record("user.totp_reset", target=f"user:{user.id}")
    db.session.commit()


def invite_user(*, email: str, role_name: str, name: str = "", team_id: int | None = None,
                locale: str | None = None) -> tuple[User, str]:
    """Create an invited user (no password yet) and return it with its one-time token. Commits."""
    import secrets

    from core.auth.views import invite_token_hash

    email = email.strip().lower()
    existing = db.session.execute(select(User).where(func.lower(User.email) == email)).scalar()
    if existing is not None and existing.password_hash:
        raise AdminError(_("%(email)s already has an account.", email=email))
    token = secrets.token_urlsafe(32)
    user = existing or User(email=email, name=name or email.split("@")[0])
    user.role = role_by_name(role_name)
    user.team_id = team_id
    user.locale = locale or None
    user.active = True
    user.invite_token_hash = invite_token_hash(token)
    if existing is None:
        db.session.add(user)
    db.session.flush()
    record("user.invite", target=f"user:{user.id}", detail={"email": email})
    db.session.commit()
    return user, token


def update_user(user: User, *, role: Role, team_id: int | None, locale: str | None,
                name: str | None = None, by: User | None = None) -> None:
    """Change a user's role, team, language and name; the last admin keeps their role. Commits."""
    if user.role.name == "admin" and role.name != "admin":
        _guard_admin_loss(user, by, _("remove the admin role from"))
    user.role = role
    user.team_id = team_id
    user.locale = locale or None
    if name:
        user.name = name
    db.session.commit()


def set_seats(user: User, modules: set[str]) -> list[str]:
    """Make ``user``'s seats exactly ``modules``; returns the refusals (one per module)."""
    refusals = []
    for module in sorted(user.seat_modules - modules):
        release_seat(user, module)
    for module in sorted(modules - user.seat_modules):
        try:
            assign_seat(user, module)
        except SeatError as exc:
            refusals.append(str(exc))
        db.session.refresh(user)
    return refusals


def seat_holders(module: str) -> list[User]:
    """Active users with a seat in ``module``, by name."""
    return list(db.session.execute(
        select(User).join(Seat).where(Seat.module == module, User.active.is_(True))
        .order_by(User.name)
    ).scalars())


def user_query(*, search: str = "", role_id: int | None = None, team_id: int | None = None,
               active: bool | None = None):
    """A ``select(User)`` filtered like the users list (seats loaded with the page)."""
    from sqlalchemy import or_
    from sqlalchemy.orm import selectinload

    stmt = select(User).options(selectinload(User.seats))  # the list shows every user's seats
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
    if role_id:
        stmt = stmt.where(User.role_id == role_id)
    if team_id:
        stmt = stmt.where(User.team_id == team_id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return stmt
