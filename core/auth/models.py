"""Users, roles, teams and module seats."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

SCOPES = ("own", "team", "all")

# Built-in role names are stored in English (code relies on them); people see these labels.
BUILTIN_ROLE_LABELS = {"admin": _l("Administrator"), "manager": _l("Manager"), "agent": _l("Agent")}


class Team(db.Model):
    """A group of users; records owned by a team are visible to its members under "team" scope."""

    __tablename__ = "core_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class Role(db.Model):
    """A named set of permissions plus a record scope per module."""

    __tablename__ = "core_role"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    permissions: Mapped[list] = mapped_column(JSON, default=list)  # "*" grants everything
    scopes: Mapped[dict] = mapped_column(JSON, default=dict)  # module -> own/team/all
    default_scope: Mapped[str] = mapped_column(String(10), default="all")

    def scope_for(self, module: str) -> str:
        return self.scopes.get(module, self.default_scope)

    @property
    def label(self) -> str:
        """The name people see: translated for built-in roles, as typed for custom ones."""
        if self.builtin and self.name in BUILTIN_ROLE_LABELS:
            return str(BUILTIN_ROLE_LABELS[self.name])
        return self.name


class User(UserMixin, db.Model):
    """A staff member who signs in to the CRM."""

    __tablename__ = "core_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role_id: Mapped[int] = mapped_column(ForeignKey("core_role.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    invite_token_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    role: Mapped[Role] = relationship(lazy="joined")
    team: Mapped[Team | None] = relationship(lazy="joined")
    seats: Mapped[list["Seat"]] = relationship(
        back_populates="user", lazy="select", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot sign in
        return self.active

    @property
    def seat_modules(self) -> set[str]:
        return {seat.module for seat in self.seats}

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Seat(db.Model):
    """A user's seat in one module; the license caps how many each module has."""

    __tablename__ = "core_seat"
    __table_args__ = (UniqueConstraint("user_id", "module"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(50), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="seats")
