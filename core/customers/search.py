"""Customer search: Persian-aware text on the search key, exact canonical contact values."""

import re
from collections.abc import Mapping

from sqlalchemy import Select, and_, or_, select

from core.auth.scope import scoped
from core.customers.models import ContactPoint, Customer, customer_tags
from core.i18n import normalize, to_latin_digits
from core.pagination import sort_columns
from core.validators import canonical_mobile, check_legal_national_id, check_national_code

SORTS = {"name": Customer.display_name, "created": Customer.created_at,
         "updated": Customer.updated_at}
DEFAULT_SORT = "-created"


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
        found.append(Customer.id.in_(
            select(ContactPoint.customer_id).where(ContactPoint.value.in_(values))))
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


def search(query: str = "", filters: Mapping | None = None,
           sort: str | None = None) -> tuple[Select, str, list]:
    """The current user's customers matching ``query`` and ``filters``, and their order.

    Filters: ``tag`` (tag ids), ``owner`` (user id), ``kind``. Returns the scoped statement,
    the sort actually used and the keyset columns for ``core.pagination.keyset_page``.
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
    used, columns = sort_columns(sort, SORTS, DEFAULT_SORT, Customer.id)
    return stmt, used, columns
