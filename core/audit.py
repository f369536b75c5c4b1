"""Append-only audit log: every write, sign-in and permission failure; who, when, from where."""

from datetime import datetime
from typing import Any

from flask import Flask, has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, DateTime, Integer, String, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.database import utcnow
from core.extensions import db


class AuditLog(db.Model):
    """One audited action. Rows are never updated or deleted."""

    __tablename__ = "core_audit_log"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[Any] = mapped_column(JSON, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditLogIsAppendOnly(RuntimeError):
    """Someone tried to change or delete an audit entry."""


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _refuse_change(_mapper, _connection, _target):
    raise AuditLogIsAppendOnly("audit log entries cannot be changed or deleted")


def _who() -> tuple[int | None, str | None]:
    if not has_request_context():
        return None, None
    user_id = current_user.id if current_user and current_user.is_authenticated else None
    return user_id, request.remote_addr


def record(action: str, target: str = "", detail: Any = None, user_id: int | None = None) -> None:
    """Add an audit entry to the current transaction."""
    who, ip = _who()
    db.session.add(
        AuditLog(action=action, target=target[:200], detail=detail, user_id=user_id or who, ip=ip)
    )


def record_denial(permission: str) -> None:
    """Record a refused request at once (the request itself will not commit)."""
    record("auth.denied", target=request.path if has_request_context() else "",
           detail={"permission": permission})
    db.session.commit()


def _describe(obj) -> str:
    state = inspect(obj)
    # Right after a flush a new row has its primary key but not yet its identity key.
    ident = state.identity or tuple(state.mapper.primary_key_from_instance(obj))
    key = ident[0] if len(ident) == 1 else ident
    return f"{obj.__tablename__}:{key}"


def _audit_flush(session: Session, _flush_context, _instances) -> None:
    """Turn every ORM insert, update and delete into an audit entry (tables may opt out)."""
    entries = []
    for verb, objs in (("update", session.dirty), ("delete", session.deleted)):
        for obj in objs:
            if not getattr(obj, "__audit__", True) or not hasattr(obj, "__tablename__"):
                continue
            if verb == "update":
                changed = [a.key for a in inspect(obj).attrs if a.history.has_changes()]
                if not changed:
                    continue
                detail = {"fields": sorted(changed)}
            else:
                detail = None
            entries.append((f"{verb}", _describe(obj), detail))
    session.info.setdefault("crm_audit_new", []).extend(
        o for o in session.new if getattr(o, "__audit__", True) and hasattr(o, "__tablename__")
    )
    for action, target, detail in entries:
        record(action, target, detail)


def _audit_after_flush(session: Session, _flush_context) -> None:
    new = session.info.pop("crm_audit_new", [])
    if not new:
        return
    who, ip = _who()
    rows = [
        {"action": "create", "target": _describe(obj)[:200], "user_id": who, "ip": ip,
         "at": utcnow(), "detail": None}
        for obj in new
    ]
    session.execute(AuditLog.__table__.insert(), rows)


def init_app(app: Flask) -> None:
    if not event.contains(Session, "before_flush", _audit_flush):
        event.listen(Session, "before_flush", _audit_flush)
        event.listen(Session, "after_flush", _audit_after_flush)
