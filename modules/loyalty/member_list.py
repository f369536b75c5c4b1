"""The member list query: search, filters and sort orders, inside the user's record scope.

Search reads like the customer search (``core.customers.search.text_condition``: every word
in the normalised name key, or a whole mobile / national code in any digits), plus a card
number (spaces and dashes allowed, any digits) or a referral code.
"""

import re
from collections.abc import Mapping
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import lazyload

from core.auth.scope import scoped
from core.customers.models import Customer
from core.customers.search import _filter_date, text_condition
from core.i18n import to_latin_digits, utc_range
from core.pagination import sort_columns
from modules.loyalty.models.members import MEMBER_STATUSES, Member

STATUS_LABELS = {"active": _l("Active"), "opted_out": _l("Left the club")}
SORTS = {"enrolled": Member.enrolled_at, "balance": Member.balance,
         "name": Customer.display_name}
DEFAULT_SORT = "-enrolled"
_CARD = re.compile(r"[\s\-]")


def read_filters(args: Mapping) -> tuple[dict, dict[str, str]]:
    """The list filters from a query string, and the reasons for bad ones (by argument)."""
    errors: dict[str, str] = {}
    tier = (args.get("tier") or "").strip()
    filters = {
        "q": (args.get("q") or "").strip(),
        "status": args.get("status") if args.get("status") in MEMBER_STATUSES else None,
        "tier": None, "enrolled_from": None, "enrolled_to": None,
    }
    if tier == "none":
        filters["tier"] = "none"
    elif tier:
        latin = to_latin_digits(tier)
        if latin.isdigit():
            filters["tier"] = int(latin)
        else:
            errors["tier"] = _("Choose a tier from the list.")
    for name in ("enrolled_from", "enrolled_to"):
        text = (args.get(name) or "").strip()
        if text:
            try:
                filters[name] = _filter_date(text)
            except ValueError as exc:
                errors[name] = str(exc)
    return filters, errors


def search_condition(q: str):
    """Name, mobile, national code (as the customer search) or card number / referral code."""
    q = (q or "").strip()
    if not q:
        return None
    conditions = []
    customer = text_condition(q)
    if customer is not None:
        conditions.append(customer)
    card = _CARD.sub("", to_latin_digits(q))
    if card.isdigit() and len(card) >= 4:
        conditions.append(Member.card_number.like(f"%{card}%"))
    if card.isalnum() and len(card) == 8:
        conditions.append(Member.referral_code == card.upper())
    return or_(*conditions) if conditions else None


def visible_members() -> Select:
    """Members the current user may see (club record scope), with their customer."""
    return scoped(select(Member).join(Customer, Customer.id == Member.customer_id),
                  Member, "loyalty")


def search(filters: Mapping, sort: str | None) -> tuple[Select, str, list]:
    """The list statement, the sort actually used, and its keyset columns."""
    stmt = visible_members()
    condition = search_condition(filters.get("q", ""))
    if condition is not None:
        stmt = stmt.where(condition)
    if filters.get("status"):
        stmt = stmt.where(Member.status == filters["status"])
    if filters.get("tier") == "none":
        stmt = stmt.where(Member.tier_id.is_(None))
    elif filters.get("tier"):
        stmt = stmt.where(Member.tier_id == filters["tier"])
    if filters.get("enrolled_from") or filters.get("enrolled_to"):
        start = filters.get("enrolled_from")
        end = filters.get("enrolled_to")
        if start:
            stmt = stmt.where(Member.enrolled_at >= utc_range(start, start)[0])
        if end:
            stmt = stmt.where(Member.enrolled_at < utc_range(end, end + timedelta(days=1))[1])
    used, columns = sort_columns(sort, SORTS, DEFAULT_SORT, Member.id)
    return stmt, used, columns


def list_rows(stmt: Select) -> Select:
    """``stmt`` for the list page: each row is the member and its customer's name, taken
    from the join ``visible_members`` makes (not a second join loading whole customers);
    the tier comes from the page's tier list."""
    return stmt.add_columns(Customer.display_name).options(lazyload(Member.customer),
                                                           lazyload(Member.tier))
