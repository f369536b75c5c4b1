"""Customer search: Persian-aware text on the search key, exact canonical contact values,
filters (tags, owner, kind, RFM segment, custom fields) and the sort orders of the list.

The list page, the export and ``/api/v1/customers`` read the same query string through
``parse_filters``, so a filtered view, its export and its API call return the same customers.
"""

import re
from collections.abc import Mapping
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Select, and_, false, func, or_, select

from core.analytics.models import CustomerScore
from core.analytics.rfm import SEGMENTS
from core.auth.scope import scoped
from core.customers.models import KINDS, ContactPoint, Customer, CustomField, Tag, customer_tags
from core.extensions import db
from core.i18n import normalize, parse_jalali_date, parse_number, to_latin_digits
from core.pagination import sort_columns
from core.validators import canonical_mobile, check_legal_national_id, check_national_code

# Customers without scores sort after every scored one (priorities are never negative).
PRIORITY = func.coalesce(CustomerScore.priority, -1.0)
SORTS = {"name": Customer.display_name, "created": Customer.created_at,
         "updated": Customer.updated_at, "priority": PRIORITY}
DEFAULT_SORT = "-created"
# Query arguments a list view is made of (what a saved view keeps); plus ``custom.*``.
QUERY_KEYS = ("q", "sort", "tag", "owner", "kind", "segment", "col")
# The operators a custom field of each type takes: ``custom.<name>`` or ``custom.<name>.<op>``.
CUSTOM_OPS = {"text": ("",), "number": ("", "min", "max"), "date": ("", "from", "to"),
              "choice": ("",), "bool": ("",)}
_YES = {"1", "true", "yes", "y", "on", "بله", "آری"}
_NO = {"0", "false", "no", "n", "off", "خیر"}


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _exact_matches(query: str) -> list:
    """Conditions for a query that is a whole mobile, email or code, typed in any form."""
    found = []
    try:
        mobile = canonical_mobile(query)
    except ValueError:
        mobile = None
    email = query.strip().lower() if "@" in query else None
    values = [v for v in (mobile, email) if v]
    if values:
        # Resolved first, through the index on the value: as a subquery inside the OR with
        # the text condition, PostgreSQL would read every customer instead.
        ids = db.session.execute(select(ContactPoint.customer_id).distinct()
                                 .where(ContactPoint.value.in_(values))).scalars().all()
        if ids:
            found.append(Customer.id.in_(ids))
    digits = re.sub(r"[\s\-]", "", to_latin_digits(query))
    for check, column in ((check_national_code, Customer.national_code),
                          (check_legal_national_id, Customer.national_id)):
        try:
            found.append(column == check(digits))
        except ValueError:
            pass
    return found


def text_condition(query: str):
    """Every word of the query in the search key, or the query as an exact contact/code."""
    key = normalize(query)
    words = key.split()
    if not words:
        return None
    like = and_(*[Customer.search_key.like(_like(w), escape="\\") for w in words])
    return or_(like, *_exact_matches(query))


def visible_customers() -> Select:
    """Ids of the customers the current user may see (record scope, not anonymised)."""
    return scoped(select(Customer.id).where(Customer.anonymised_at.is_(None)), Customer,
                  "customers")


def visible_customer(customer_id: int | None) -> Customer | None:
    """The customer if the current user may see it (record scope, not anonymised), else None."""
    if not customer_id:
        return None
    stmt = scoped(select(Customer).where(Customer.id == customer_id,
                                         Customer.anonymised_at.is_(None)),
                  Customer, "customers")
    return db.session.execute(stmt).scalar()


def customer_choices(query: str, limit: int = 20) -> list[Customer]:
    """Visible customers matching ``query`` by name, contact or code, for a picker."""
    condition = text_condition(query)
    if condition is None:
        return []
    stmt = scoped(select(Customer).where(condition, Customer.anonymised_at.is_(None)),
                  Customer, "customers").order_by(Customer.display_name).limit(limit)
    return list(db.session.execute(stmt).unique().scalars())


# ---- filters from a query string -----------------------------------------------------------

def _filter_date(text: str) -> date:
    """A date typed in Jalali ("۱۴۰۳/۰۱/۱۵"), or an ISO Gregorian date ("2024-04-03", API)."""
    latin = to_latin_digits(text).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", latin) and int(latin[:4]) >= 1700:
        return date.fromisoformat(latin)
    return parse_jalali_date(latin)


def _flag(text: str) -> bool:
    value = to_latin_digits(text).strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(_("Choose yes or no."))


def _custom_filter(field: CustomField, op: str, values: list[str], spec: dict) -> None:
    """Add one ``custom.<name>[.op]`` argument to the field's filter ``spec``."""
    text = values[-1].strip()
    if field.type == "text":
        spec["contains"] = text
    elif field.type == "number":
        number = float(parse_number(text, allow_decimal=True))
        if op in ("", "min"):
            spec["min"] = number
        if op in ("", "max"):
            spec["max"] = number
    elif field.type == "date":
        day = _filter_date(text)
        if op in ("", "from"):
            spec["from"] = day
        if op in ("", "to"):
            spec["to"] = day
    elif field.type == "choice":
        chosen = [v.strip() for v in values if v.strip()]
        unknown = [v for v in chosen if v not in field.choices]
        if unknown:
            raise ValueError(_("%(value)s is not one of the choices", value=unknown[0]))
        spec["in"] = chosen
    else:
        spec["is"] = _flag(text)


def _tag_ids(values: list[str]) -> list[int]:
    """Tag ids from ids or names (the API speaks names); an unknown name matches nobody."""
    ids = [int(v) for v in values if v.isdigit()]
    names = [v for v in values if not v.isdigit()]
    if names:
        found = dict(db.session.execute(
            select(Tag.name, Tag.id).where(Tag.name.in_(names))).all())
        ids += [found.get(name, -1) for name in names]
    return ids


def parse_filters(args, fields: list[CustomField]) -> tuple[dict, dict[str, str]]:
    """The filters in a query string (a werkzeug ``MultiDict``) and the reasons for bad ones.

    Arguments: ``tag`` (ids or names, repeatable), ``owner`` (user id), ``kind``, ``segment``
    (RFM segment keys, repeatable) and per custom field ``custom.<name>``: text contains,
    number ``.min``/``.max``, date ``.from``/``.to`` (Jalali, or ISO in the API), choice
    (repeatable), yes/no. Empty arguments are ignored; a bad one is left out and named in the
    errors (by argument name).
    """
    errors: dict[str, str] = {}
    tags = [v.strip() for v in args.getlist("tag") if v.strip()]
    filters: dict = {"tag": _tag_ids(tags) if tags else [], "owner": None, "kind": None,
                     "segment": [], "custom": {}}
    owner = (args.get("owner") or "").strip()
    if owner:
        if to_latin_digits(owner).isdigit():
            filters["owner"] = int(to_latin_digits(owner))
        else:
            errors["owner"] = _("The owner is a user id.")
    kind = (args.get("kind") or "").strip()
    if kind:
        if kind in KINDS:
            filters["kind"] = kind
        else:
            errors["kind"] = _("The kind is person or organisation.")
    for key in (v.strip() for v in args.getlist("segment") if v.strip()):
        if key in SEGMENTS:
            filters["segment"].append(key)
        else:
            errors["segment"] = _("There is no segment named %(name)s", name=key)
    by_name = {f.name: f for f in fields}
    for arg in sorted({k for k in args if k.startswith("custom.")}):
        values = [v for v in args.getlist(arg) if v.strip()]
        if not values:
            continue
        name, _dot, op = arg.removeprefix("custom.").partition(".")
        field = by_name.get(name)
        if field is None:
            errors[arg] = _("There is no custom field named %(name)s", name=name)
            continue
        if op not in CUSTOM_OPS[field.type]:
            errors[arg] = _("%(label)s cannot be filtered with %(op)s", label=field.label, op=op)
            continue
        spec = filters["custom"].setdefault(name, {"type": field.type})
        try:
            _custom_filter(field, op, values, spec)
        except ValueError as exc:
            errors[arg] = f"{field.label}: {exc}"
    filters["custom"] = {n: s for n, s in filters["custom"].items() if len(s) > 1}
    return filters, errors


def custom_condition(name: str, spec: Mapping):
    """The SQL condition of one custom field filter (JSON accessors: SQLite and PostgreSQL)."""
    value = Customer.custom[name]
    kind = spec["type"]
    conditions = []
    if kind == "text" and spec.get("contains"):
        stored = func.lower(func.replace(func.replace(value.as_string(), "ي", "ی"), "ك", "ک"))
        term = spec["contains"].replace("ي", "ی").replace("ك", "ک").lower()
        conditions.append(stored.like(_like(term), escape="\\"))
    if kind == "number":
        if spec.get("min") is not None:
            conditions.append(value.as_float() >= spec["min"])
        if spec.get("max") is not None:
            conditions.append(value.as_float() <= spec["max"])
    if kind == "date":  # stored as ISO dates, which sort as text
        if spec.get("from") is not None:
            conditions.append(value.as_string() >= spec["from"].isoformat())
        if spec.get("to") is not None:
            conditions.append(value.as_string() <= spec["to"].isoformat())
    if kind == "choice" and spec.get("in"):
        conditions.append(value.as_string().in_(spec["in"]))
    if kind == "bool" and spec.get("is") is not None:
        if spec["is"]:
            conditions.append(value.as_boolean() == True)  # noqa: E712
        else:  # never answered counts as no
            conditions.append(or_(value.as_boolean() == False,  # noqa: E712
                                  value.as_string().is_(None)))
    return and_(*conditions) if conditions else None


def search(query: str = "", filters: Mapping | None = None,
           sort: str | None = None) -> tuple[Select, str, list]:
    """The current user's customers matching ``query`` and ``filters``, and their order.

    ``filters`` as ``parse_filters`` returns them (every key optional). Returns the scoped
    statement, the sort actually used and the keyset columns for
    ``core.pagination.keyset_page``. Sorting by ``priority`` puts unscored customers last.
    """
    filters = filters or {}
    stmt = scoped(select(Customer), Customer, "customers").where(
        Customer.anonymised_at.is_(None))
    condition = text_condition(query or "")
    if condition is not None:
        stmt = stmt.where(condition)
    for tag_id in filters.get("tag") or ():
        stmt = stmt.where(Customer.id.in_(
            select(customer_tags.c.customer_id).where(customer_tags.c.tag_id == tag_id)))
    if filters.get("owner"):
        stmt = stmt.where(Customer.owner_id == filters["owner"])
    if filters.get("kind"):
        stmt = stmt.where(Customer.kind == filters["kind"])
    if filters.get("segment"):
        stmt = stmt.where(Customer.id.in_(select(CustomerScore.customer_id).where(
            CustomerScore.segment.in_(filters["segment"]))))
    for name, spec in (filters.get("custom") or {}).items():
        condition = custom_condition(name, spec)
        stmt = stmt.where(condition if condition is not None else false())
    used, columns = sort_columns(sort, SORTS, DEFAULT_SORT, Customer.id)
    if used.lstrip("-") == "priority":
        stmt = stmt.outerjoin(CustomerScore, CustomerScore.customer_id == Customer.id)
    return stmt, used, columns


def scores_for(customer_ids) -> dict[int, CustomerScore]:
    """The scores of these customers (those computed so far), by customer id."""
    if not customer_ids:
        return {}
    return {s.customer_id: s for s in db.session.execute(
        select(CustomerScore).where(CustomerScore.customer_id.in_(list(customer_ids))))
        .scalars()}
