"""SQL building blocks of segment rules: comparisons, EXISTS on related rows, date windows."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import jdatetime
from sqlalchemy import String, and_, cast, exists, extract, func, literal, not_, or_, select

from core.analytics.models import Purchase
from core.customers.models import Address, Customer, Note, Task, customer_tags
from core.i18n import jalali_month_range, utc_range
from core.messaging.models import MessageLog

NEGATIVE = {"is_not": "is", "has_not": "has", "not_last_days": "last_days"}


def _since(rule: dict, now: datetime) -> datetime:
    return now - timedelta(days=int(rule["value"]))


def _local_bounds(op: str, value: Any) -> tuple[datetime | None, datetime | None]:
    """UTC bounds [lo, hi) of a date operator on Tehran dates."""
    days = value if op == "between" else [value, value]
    lo, hi = utc_range(date.fromisoformat(days[0]), date.fromisoformat(days[1]) + timedelta(1))
    return (lo if op in ("from", "between") else None), (hi if op in ("to", "between") else None)


def _window(column, lo, hi) -> list:
    return [c for c in ((column >= lo) if lo else None, (column < hi) if hi else None)
            if c is not None]


def value_condition(expr, op: str, rule: dict, now: datetime):
    """``expr`` compared by a positive operator (dates are UTC datetimes)."""
    value = rule.get("value")
    if op == "is":
        return expr.in_(value) if isinstance(value, list) else expr == value
    if op == "contains":
        return func.lower(expr).like("%" + str(value).lower().replace("%", r"\%") + "%",
                                     escape="\\")
    if op == "gte":
        return expr >= value
    if op == "lte":
        return expr <= value
    if op == "between":
        if isinstance(value[0], str):
            return and_(*_window(expr, *_local_bounds(op, value)))
        return expr.between(value[0], value[1])
    if op == "last_days":
        return expr >= _since(rule, now)
    return and_(*_window(expr, *_local_bounds(op, value)))


def column_field(column, nullable: bool = False) -> Callable:
    """A compiler for a column of core_customer."""
    def compile_(op, rule, now):
        positive = value_condition(column, NEGATIVE.get(op, op), rule, now)
        if op not in NEGATIVE:
            return positive
        return or_(not_(positive), column.is_(None)) if nullable else not_(positive)
    return compile_


def related_field(column, link) -> Callable:
    """A compiler for a column of a related table: EXISTS a row that matches."""
    def compile_(op, rule, now):
        found = exists().where(link == Customer.id,
                               value_condition(column, NEGATIVE.get(op, op), rule, now))
        return not_(found) if op in NEGATIVE else found
    return compile_


def _text_key(expr):
    """Arabic yeh/kaf folded and lower-cased, so a typed city matches its stored form."""
    return func.lower(func.replace(func.replace(func.trim(expr), "ي", "ی"), "ك", "ک"))


def _fold(text: str) -> str:
    return text.strip().replace("ي", "ی").replace("ك", "ک").lower()


def _city(op, rule, now):
    value = _fold(rule["value"])
    key = _text_key(Address.city)
    test = key.like(f"%{value}%") if op == "contains" else key == value
    found = exists().where(Address.customer_id == Customer.id, test)
    return not_(found) if op == "is_not" else found


def _birthday_month(op, rule, now):
    """Birthdays in a Jalali month of this year's calendar (month*100+day ranges)."""
    year = jdatetime.date.fromgregorian(date=now.date()).year
    start, following = jalali_month_range(year, int(rule["value"]))
    end = following - timedelta(days=1)
    md = extract("month", Customer.birthday) * 100 + extract("day", Customer.birthday)
    low, high = start.month * 100 + start.day, end.month * 100 + end.day
    return md.between(low, high) if low <= high else or_(md >= low, md <= high)


def _tag(op, rule, now):
    found = exists().where(customer_tags.c.customer_id == Customer.id,
                           customer_tags.c.tag_id == int(rule["value"]))
    return not_(found) if op == "has_not" else found


def _last_condition(any_between: Callable) -> Callable:
    """Compiler for "last X date" fields given ``any_between(lo, hi)`` (EXISTS in a window)."""
    def compile_(op, rule, now):
        if op == "never":
            return not_(any_between(None, None))
        if op == "last_days":
            return any_between(_since(rule, now), None)
        if op == "not_last_days":
            return and_(any_between(None, None), not_(any_between(_since(rule, now), None)))
        lo, hi = _local_bounds(op, rule["value"])
        if op == "from":
            return any_between(lo, None)
        # latest before hi: something in [lo, hi) and nothing at or after hi
        return and_(any_between(lo, hi), not_(any_between(hi, None)))
    return compile_


def _purchases_between(lo, hi):
    return exists().where(Purchase.customer_id == Customer.id,
                          *_window(Purchase.occurred_at, lo, hi))


def _activity_between(lo, hi):
    key = literal("customer:") + cast(Customer.id, String)
    return or_(
        exists().where(Note.customer_id == Customer.id, *_window(Note.created_at, lo, hi)),
        exists().where(Task.customer_id == Customer.id, *_window(Task.created_at, lo, hi)),
        _purchases_between(lo, hi),
        exists().where(MessageLog.customer_key == key, *_window(MessageLog.created_at, lo, hi)))


def _purchase_total(op, rule, now):
    """Total of purchases (in the last ``days`` when given), via one grouped subquery."""
    def having(test):
        stmt = select(Purchase.customer_id).group_by(Purchase.customer_id)
        if rule.get("days"):
            stmt = stmt.where(Purchase.occurred_at >= now - timedelta(days=int(rule["days"])))
        return stmt.having(test(func.sum(Purchase.amount)))
    value = rule["value"]
    low, high = (value if op == "between" else
                 (value, None) if op == "gte" else (None, value))
    parts = []
    if low is not None and low > 0:
        parts.append(Customer.id.in_(having(lambda total: total >= low)))
    if high is not None:
        parts.append(Customer.id.not_in(having(lambda total: total > high)))
    return and_(*parts) if parts else Customer.id.is_not(None)
