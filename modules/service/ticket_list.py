"""The ticket list query: search, filters and sort orders, inside the user's record scope."""

import re
from collections.abc import Mapping

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select

from core.auth.scope import scoped
from core.extensions import db
from core.i18n import normalize, to_latin_digits
from core.pagination import sort_columns
from modules.service.models.tickets import DONE, PRIORITIES, STATUSES, TYPES, Ticket

SLA_STATES = ("ok", "warning", "breached", "met")
SLA_LABELS = {"ok": _l("On time"), "warning": _l("Due soon"), "breached": _l("SLA breached"),
              "met": _l("SLA met")}
STATUS_CLASSES = {"new": "primary", "open": "info", "waiting_customer": "warning",
                  "waiting_third_party": "warning", "resolved": "success", "closed": "secondary"}
SLA_CLASSES = {"ok": "success", "warning": "warning", "breached": "danger", "met": "secondary"}
OPEN_ONES = "open_ones"  # every status but resolved and closed
SORTS = {"created": Ticket.created_at, "updated": Ticket.updated_at, "subject": Ticket.subject}
DEFAULT_SORT = "-created"
_REFERENCE = re.compile(r"(?:[tT]\s*-?\s*)?0*(\d{1,9})")


def _int(value) -> int | None:
    try:
        return int(to_latin_digits(str(value)))
    except (TypeError, ValueError):
        return None


def read_filters(args: Mapping) -> dict:
    """The list filters from a query string (unknown values are dropped)."""
    status = args.get("status") or None
    assignee = args.get("assignee") or None
    if assignee not in ("me", "none"):
        assignee = _int(assignee)
    return {
        "q": (args.get("q") or "").strip(),
        "status": status if status in (*STATUSES, OPEN_ONES) else None,
        "type": args.get("type") if args.get("type") in TYPES else None,
        "priority": args.get("priority") if args.get("priority") in PRIORITIES else None,
        "category": _int(args.get("category")),
        "assignee": assignee,
        "team": _int(args.get("team")),
        "sla": args.get("sla") if args.get("sla") in SLA_STATES else None,
        "customer": _int(args.get("customer")),
    }


def search_condition(q: str):
    """``T-000123`` finds that ticket, an exact serial its tickets; else the search key.

    A reference or serial is looked up by index first; only when it finds nothing does the
    text search (``LIKE`` on the normalised key, which also holds bare numbers) run.
    """
    q = (q or "").strip()
    if not q:
        return None
    latin = to_latin_digits(q)
    match = _REFERENCE.fullmatch(latin)
    if match and latin[:1] in "tT":
        return Ticket.id == int(match[1])
    if db.session.execute(select(Ticket.id).where(Ticket.serial == latin).limit(1)).first():
        return Ticket.serial == latin
    key = normalize(q)
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    condition = Ticket.search_key.like(f"%{escaped}%", escape="\\")
    if match:  # a bare number: that ticket, or any text holding the number
        return or_(Ticket.id == int(match[1]), condition)
    return condition


def filtered(stmt: Select, filters: Mapping, user_id: int | None = None) -> Select:
    """``stmt`` with the filters applied (``assignee="me"`` needs ``user_id``)."""
    condition = search_condition(filters.get("q", ""))
    if condition is not None:
        stmt = stmt.where(condition)
    status = filters.get("status")
    if status == OPEN_ONES:
        stmt = stmt.where(Ticket.status.not_in(DONE))
    elif status:
        stmt = stmt.where(Ticket.status == status)
    for name, column in (("type", Ticket.type), ("priority", Ticket.priority),
                         ("category", Ticket.category_id), ("team", Ticket.team_id),
                         ("sla", Ticket.sla_state), ("customer", Ticket.customer_id)):
        if filters.get(name) is not None:
            stmt = stmt.where(column == filters[name])
    assignee = filters.get("assignee")
    if assignee == "me":
        stmt = stmt.where(Ticket.owner_id == user_id)
    elif assignee == "none":
        stmt = stmt.where(Ticket.owner_id.is_(None))
    elif assignee is not None:
        stmt = stmt.where(Ticket.owner_id == assignee)
    return stmt


def visible_tickets() -> Select:
    """Tickets the current user may see (record scope of the service module)."""
    return scoped(select(Ticket), Ticket, "service")


def search(filters: Mapping, sort: str | None, user_id: int | None) -> tuple[Select, str, list]:
    """The list statement, the sort actually used, and its keyset columns."""
    stmt = filtered(visible_tickets(), filters, user_id)
    used, columns = sort_columns(sort, SORTS, DEFAULT_SORT, Ticket.id)
    return stmt, used, columns


def customer_names(ids) -> dict[int, str]:
    """Display names of the customers of a page of tickets."""
    from core.customers.models import Customer

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Customer.id, Customer.display_name)
                                   .where(Customer.id.in_(ids))).all())


def keep_visible(ticket: Ticket, user) -> None:
    """A ticket the creator could not see (no owner, no team of theirs) becomes theirs."""
    from core.auth.scope import current_scope
    from modules.service.tickets import assign

    scope = current_scope("service")
    if scope == "all" or ticket.owner_id is not None:
        return
    if scope == "team" and ticket.team_id is not None and ticket.team_id == user.team_id:
        return
    assign(ticket, user=user, by=user)
