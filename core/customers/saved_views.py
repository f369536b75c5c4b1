"""Saved views of the customer list: a named query (search, filters, sort, columns) per user.

A view is private to its owner unless shared, when every user who may open the customer
list sees it too (each still sees only the customers of their own record scope). Only the
owner renames or deletes it.
"""

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Boolean, DateTime, ForeignKey, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.customers.search import QUERY_KEYS
from core.database import utcnow
from core.extensions import db

NAME_LENGTH = 120


class SavedView(db.Model):
    """A user's named customer list query; ``shared`` shows it to every user."""

    __tablename__ = "core_saved_view"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_core_saved_view_user_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    query: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)

    user = relationship("User", lazy="joined")


class SavedViewError(ValueError):
    """A view that cannot be saved as asked; ``errors`` maps field names to reasons."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def clean_query(query: str) -> str:
    """The list-view part of a query string (search, filters, sort, columns), in a stable order.

    Page tokens and anything the list does not understand are dropped.
    """
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False)
             if (k in QUERY_KEYS or k.startswith("custom.")) and v.strip()]
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def _check_name(user_id: int, name: str, exclude_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise SavedViewError({"name": _("Give the view a name.")})
    if len(name) > NAME_LENGTH:
        raise SavedViewError({"name": _("A view's name is at most %(n)d characters.",
                                        n=NAME_LENGTH)})
    taken = select(SavedView.id).where(SavedView.user_id == user_id, SavedView.name == name)
    if exclude_id is not None:
        taken = taken.where(SavedView.id != exclude_id)
    if db.session.execute(taken).first() is not None:
        raise SavedViewError({"name": _("You already have a view named %(name)s.", name=name)})
    return name


def save_view(user_id: int, name: str, query: str, shared: bool = False) -> SavedView:
    """Save the list query ``query`` (a query string) as ``user_id``'s view ``name``."""
    view = SavedView(user_id=user_id, name=_check_name(user_id, name),
                     query=clean_query(query or ""), shared=bool(shared))
    db.session.add(view)
    db.session.flush()
    return view


def rename_view(view: SavedView, name: str, shared: bool | None = None) -> SavedView:
    """Give a view another name (and, when given, change whether it is shared)."""
    view.name = _check_name(view.user_id, name, exclude_id=view.id)
    if shared is not None:
        view.shared = bool(shared)
    db.session.flush()
    return view


def delete_view(view: SavedView) -> None:
    """Remove a saved view."""
    db.session.delete(view)
    db.session.flush()


def visible_views(user_id: int) -> list[SavedView]:
    """The user's own views, then the views others share, each by name."""
    stmt = (select(SavedView).where(or_(SavedView.user_id == user_id, SavedView.shared.is_(True)))
            .order_by((SavedView.user_id != user_id), SavedView.name, SavedView.id))
    return list(db.session.execute(stmt).unique().scalars())


def visible_view_or_404(view_id: int, user_id: int) -> SavedView:
    """A view the user owns or that is shared; anything else is 404 (as if it did not exist)."""
    view = db.session.get(SavedView, view_id)
    if view is None or (view.user_id != user_id and not view.shared):
        abort(404)
    return view


def own_view_or_404(view_id: int, user_id: int) -> SavedView:
    """A view the user owns; another's view, shared or not, is 404."""
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != user_id:
        abort(404)
    return view
