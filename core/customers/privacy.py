"""Privacy: everything the deployment holds about one customer, as one JSON file."""

import json
from datetime import date, datetime
from typing import Any

from flask import Response
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404
from core.customers.models import Affiliation, Customer, Note, Task
from core.customers.timeline import timeline
from core.customers.views import bp
from core.extensions import db

PROFILE = ("id", "kind", "display_name", "first_name", "last_name", "legal_name",
           "national_code", "national_id", "economic_code", "birthday", "anniversary", "source",
           "owner_id", "team_id", "consent_email", "consent_sms", "custom", "created_at",
           "updated_at", "anonymised_at")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def customer_data(customer: Customer) -> dict:
    """The customer's record, contacts, addresses, links, notes, tasks and timeline."""
    rows = lambda stmt: db.session.execute(stmt).unique().scalars()  # noqa: E731
    return {
        "customer": {name: _plain(getattr(customer, name)) for name in PROFILE},
        "tags": [t.name for t in customer.tags],
        "contacts": [{"kind": c.kind, "value": c.value, "label": c.label,
                      "primary": c.primary} for c in customer.contacts],
        "addresses": [{"province": a.province, "city": a.city, "line": a.line,
                       "postal_code": a.postal_code} for a in customer.addresses],
        "affiliations": [{"person_id": a.person_id, "organisation_id": a.organisation_id,
                          "role": a.role} for a in rows(select(Affiliation).where(
                              (Affiliation.person_id == customer.id)
                              | (Affiliation.organisation_id == customer.id)))],
        "notes": [{"kind": n.kind, "body": n.body, "author_id": n.author_id,
                   "created_at": _plain(n.created_at)}
                  for n in rows(select(Note).where(Note.customer_id == customer.id))],
        "tasks": [{"title": t.title, "due_at": _plain(t.due_at), "done_at": _plain(t.done_at),
                   "assignee_id": t.assignee_id, "created_at": _plain(t.created_at)}
                  for t in rows(select(Task).where(Task.customer_id == customer.id))],
        "timeline": [{"at": _plain(e.at), "module": e.module, "kind": e.kind,
                      "title": str(e.title), "detail": str(e.detail)}
                     for e in timeline(customer, limit=100_000)],
    }


@bp.route("/<int:customer_id>/export.json")
@require_permission("customers.import")
def export_one(customer_id: int):
    """Everything about one customer as a JSON file (a data subject's access request)."""
    customer = get_scoped_or_404(Customer, customer_id, "customers")
    body = json.dumps(customer_data(customer), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f"attachment; filename=customer-{customer.id}.json"})
