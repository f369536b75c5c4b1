"""Record scope (own / team / all) applied in the query layer."""

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, false, or_, select

from core.extensions import db


def current_scope(module: str) -> str:
    """The current user's scope for ``module``'s records: "own", "team" or "all"."""
    if not current_user.is_authenticated:
        return "none"
    return current_user.role.scope_for(module)


def scoped(stmt: Select, model, module: str) -> Select:
    """Limit ``stmt`` to the ``model`` rows the current user may see in ``module``.

    ``model`` needs ``owner_id`` and, for team scope, ``team_id`` columns.
    """
    scope = current_scope(module)
    if scope == "all":
        return stmt
    if scope == "none":
        return stmt.where(false())
    mine = model.owner_id == current_user.id
    if scope == "team" and current_user.team_id is not None:
        return stmt.where(or_(mine, model.team_id == current_user.team_id))
    return stmt.where(mine)


def get_scoped_or_404(model, ident, module: str):
    """One record by primary key, or 404 if it does not exist or is outside the user's scope."""
    pk = model.__mapper__.primary_key[0]
    row = db.session.execute(scoped(select(model).where(pk == ident), model, module)).scalar()
    if row is None:
        abort(404)
    return row
