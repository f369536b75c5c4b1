"""The customer 360 timeline: entries from providers that the core and modules register.

    def provider(customer) -> list[TimelineEntry]: ...
    add_provider(app, provider)        # in a module's register(app)

Entries of a module that is not active are left out.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import AuditLog
from core.customers.models import Customer, Note
from core.extensions import db

KEY = "crm_customer_timeline"


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened with a customer."""

    at: datetime
    kind: str
    title: str
    detail: str = ""
    url: str | None = None
    module: str = "core"


Provider = Callable[[Customer], list[TimelineEntry]]


def add_provider(app: Flask, provider: Provider) -> None:
    """Register a timeline provider: ``provider(customer)`` returns TimelineEntry objects."""
    app.extensions.setdefault(KEY, []).append(provider)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def timeline(customer: Customer, limit: int = 200) -> list[TimelineEntry]:
    """Every provider's entries for ``customer``, newest first."""
    from core.modules import is_active

    entries = []
    shown = {"core": True}  # module -> active, asked once per module rather than per entry
    for provider in current_app.extensions.get(KEY, []):
        for entry in provider(customer) or ():
            active = shown.get(entry.module)
            if active is None:
                active = shown[entry.module] = is_active(entry.module)
            if active:
                entries.append(entry)
    entries.sort(key=lambda e: _aware(e.at), reverse=True)
    return entries[:limit]


def note_entries(customer: Customer) -> list[TimelineEntry]:
    """The customer's notes."""
    notes = db.session.execute(select(Note).where(Note.customer_id == customer.id)
                               .order_by(Note.created_at.desc()).limit(200)).scalars()
    def title(note):
        name = (note.author.name or note.author.email) if note.author else "—"
        if note.kind == "call":
            return _("Call logged by %(name)s", name=name)
        return _("Note by %(name)s", name=name)

    return [TimelineEntry(at=n.created_at, kind=n.kind, title=title(n), detail=n.body)
            for n in notes]


def audit_entries(customer: Customer) -> list[TimelineEntry]:
    """Changes to the customer record itself, from the audit log."""
    rows = db.session.execute(
        select(AuditLog).where(AuditLog.target == f"core_customer:{customer.id}")
        .order_by(AuditLog.at.desc()).limit(100)).scalars()
    titles = {"create": _("Customer record created"), "update": _("Customer record changed")}
    return [TimelineEntry(at=row.at, kind="audit", title=titles.get(row.action, row.action))
            for row in rows]


def init_app(app: Flask) -> None:
    from core.customers.tasks import task_entries

    add_provider(app, note_entries)
    add_provider(app, audit_entries)
    add_provider(app, task_entries)
