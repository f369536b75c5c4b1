"""The fields a segment rule can test: operators, value parsing, choices and the registry."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import not_, or_, select

from core.analytics.models import CustomerScore
from core.analytics.rfm import SEGMENTS
from core.auth.models import Team, User
from core.customers.models import KINDS, Customer, CustomField, Tag
from core.customers.search import _filter_date, _flag, custom_condition
from core.extensions import db
from core.i18n import current_locale, jmonth, parse_number, to_latin_digits
from core.modules import is_active
from modules.marketing.segment_sql import (
    _activity_between,
    _birthday_month,
    _city,
    _last_condition,
    _purchase_total,
    _purchases_between,
    _tag,
    column_field,
    related_field,
)


class RuleError(ValueError):
    """A rule that cannot be used; ``where`` is its 1-based path in the tree ("2.1")."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.message, self.where = message, where


OPS = {
    "is": _l("is"), "is_not": _l("is not"), "contains": _l("contains"),
    "gte": _l("at least"), "lte": _l("at most"), "between": _l("between"),
    "from": _l("on or after"), "to": _l("on or before"), "last_days": _l("in the last N days"),
    "not_last_days": _l("not in the last N days"), "never": _l("never"),
    "has": _l("has"), "has_not": _l("has not"),
}
TYPE_OPS = {
    "text": ("is", "is_not", "contains"), "choice": ("is", "is_not"),
    "number": ("gte", "lte", "between"), "bool": ("is",), "month": ("is",),
    "date": ("from", "to", "between", "last_days"),
    "last": ("last_days", "not_last_days", "from", "to", "between", "never"),
    "tag": ("has", "has_not"),
}


@dataclass
class Field:
    """One testable field; ``compile(op, rule, now)`` gives its SQL condition."""

    key: str
    label: Any
    type: str
    compile: Callable
    choices: Callable[[], list[tuple[str, str]]] | None = None
    ops: tuple[str, ...] = ()
    group: Any = ""
    days: bool = False  # takes an optional "in the last N days" window
    parser: Callable | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.ops = self.ops or TYPE_OPS[self.type]

    def parse(self, op: str, value: Any, rule: dict) -> dict:
        """The rule's clean value (and window) for storing; raises ``ValueError``."""
        clean = {"value": (self.parser or _parse)(self, op, value)}
        if self.days and rule.get("days") not in (None, ""):
            clean["days"] = _int(rule["days"], 1)
        return clean


def _int(value: Any, low: int = 0, high: int | None = None) -> int:
    number = int(parse_number(to_latin_digits(str(value)).strip()))
    if number < low or (high is not None and number > high):
        raise ValueError(_("%(value)s is out of range.", value=value))
    return number


def _number(value: Any) -> float:
    number = parse_number(to_latin_digits(str(value)).strip(), allow_decimal=True)
    return int(number) if number == int(number) else float(number)


def _pair(value: Any, one: Callable) -> list:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(_("Between needs two values."))
    low, high = one(value[0]), one(value[1])
    if low > high:
        raise ValueError(_("The first value must not be greater than the second."))
    return [low, high]


def _date(value: Any) -> str:
    if not str(value or "").strip():
        raise ValueError(_("Enter a date."))
    return _filter_date(str(value)).isoformat()


def _parse(f: Field, op: str, value: Any) -> Any:
    """Parse a value by the field's type and operator."""
    if op == "never":
        return None
    if op in ("last_days", "not_last_days"):
        return _int(value, 1, 36500)
    if op == "between":
        return _pair(value, _date if f.type in ("date", "last") else _number)
    if f.type in ("date", "last"):
        return _date(value)
    if f.type == "number":
        return _number(value)
    if f.type == "bool":
        return value if isinstance(value, bool) else _flag(str(value))
    if f.type == "month":
        return _int(value, 1, 12)
    if f.type == "choice" and isinstance(value, list | tuple):  # "is one of" (API)
        if not value:
            raise ValueError(_("Choose at least one value."))
        return [_parse(f, op, v) for v in value]
    text = str(value if value is not None else "").strip()
    if not text:
        raise ValueError(_("Enter a value."))
    if f.type in ("choice", "tag") and f.choices is not None:
        valid = dict(f.choices())
        if text not in valid:
            by_label = {str(label): key for key, label in valid.items()}
            if text not in by_label:
                raise ValueError(_("%(value)s is not one of the choices.", value=text))
            text = by_label[text]
    return text


# ---- the catalogue --------------------------------------------------------------------------

_REGISTERED: dict[str, tuple[Field, Callable[[], bool] | None]] = {}


def register_field(key: str, label: Any, compile_fn: Callable, *, type: str = "choice",
                   choices: Callable[[], list[tuple[str, str]]] | None = None,
                   ops: tuple[str, ...] = (), active: Callable[[], bool] | None = None) -> None:
    """Add a field from another module (e.g. loyalty tier); ``compile_fn(op, rule, now)``."""
    _REGISTERED[key] = (Field(key, label, type, compile_fn, choices, ops, _l("Other")), active)


def _as_int(f: Field, op: str, value: Any) -> int | list[int]:
    parsed = _parse(f, op, value)
    return [int(v) for v in parsed] if isinstance(parsed, list) else int(parsed)


def _kinds():
    labels = {"person": _("Person"), "organisation": _("Organisation")}
    return [(k, labels.get(k, k)) for k in KINDS]


def _users():
    rows = db.session.execute(select(User.id, User.name, User.email).order_by(User.name))
    return [(str(i), name or email) for i, name, email in rows]


def _teams():
    return [(str(i), n) for i, n in db.session.execute(select(Team.id, Team.name)
                                                       .order_by(Team.name))]


def _tags():
    return [(str(i), n) for i, n in db.session.execute(select(Tag.id, Tag.name)
                                                       .order_by(Tag.name))]


def _rfm():
    return [(key, s.name(current_locale())) for key, s in SEGMENTS.items()]


def _months():
    return [(str(m), jmonth(m)) for m in range(1, 13)]


def _builtin() -> list[Field]:
    who, score, buy, act = _l("Customer"), _l("Scores"), _l("Purchases"), _l("Activity")
    return [
        Field("kind", _l("Kind"), "choice", column_field(Customer.kind), _kinds, group=who),
        Field("city", _l("City"), "text", _city, group=who),
        Field("source", _l("Source"), "text", column_field(Customer.source), group=who),
        Field("created", _l("Created"), "date", column_field(Customer.created_at), group=who),
        Field("birthday_month", _l("Birthday month"), "month", _birthday_month, _months,
              group=who),
        Field("owner", _l("Owner"), "choice", column_field(Customer.owner_id, True), _users,
              group=who, parser=_as_int),
        Field("team", _l("Team"), "choice", column_field(Customer.team_id, True), _teams,
              group=who, parser=_as_int),
        Field("tag", _l("Tag"), "tag", _tag, _tags, group=who),
        Field("consent_email", _l("Email consent"), "bool", column_field(Customer.consent_email),
              group=who),
        Field("consent_sms", _l("SMS consent"), "bool", column_field(Customer.consent_sms),
              group=who),
        Field("rfm", _l("RFM segment"), "choice",
              related_field(CustomerScore.segment, CustomerScore.customer_id), _rfm, group=score),
        Field("clv", _l("Predicted value (90 days)"), "number",
              related_field(CustomerScore.predicted_value_90d, CustomerScore.customer_id),
              group=score),
        Field("monetary", _l("Total spend (RFM)"), "number",
              related_field(CustomerScore.monetary, CustomerScore.customer_id), group=score),
        Field("purchase_total", _l("Purchase total"), "number", _purchase_total, group=buy,
              days=True),
        Field("last_purchase", _l("Last purchase"), "last",
              _last_condition(_purchases_between), group=buy),
        Field("last_activity", _l("Last activity"), "last",
              _last_condition(_activity_between), group=act),
    ]


CUSTOM_TYPES = {"text": ("text", ("contains",)), "number": ("number", ()),
                "date": ("date", ("from", "to", "between")), "choice": ("choice", ()),
                "bool": ("bool", ())}


def _custom_compiler(cf: CustomField) -> Callable:
    def compile_(op, rule, now):
        value, spec = rule["value"], {"type": cf.type}
        if cf.type == "text":
            spec["contains"] = value
        elif cf.type == "number":
            low, high = value if op == "between" else (value, None) if op == "gte" else (
                None, value)
            spec.update({"min": low, "max": high})
        elif cf.type == "date":
            days = value if op == "between" else [value, value]
            spec.update({"from": _filter_date(days[0]) if op != "to" else None,
                         "to": _filter_date(days[1]) if op != "from" else None})
        elif cf.type == "choice":
            spec["in"] = [value]
        else:
            spec["is"] = value
        test = custom_condition(cf.name, spec)
        if op == "is_not":
            return or_(not_(test), Customer.custom[cf.name].as_string().is_(None))
        return test
    return compile_


def _custom_fields() -> list[Field]:
    fields = []
    for cf in db.session.execute(select(CustomField).order_by(CustomField.position,
                                                              CustomField.id)).scalars():
        kind, ops = CUSTOM_TYPES.get(cf.type, ("text", ("contains",)))
        choices = (lambda c=cf: [(v, v) for v in c.choices]) if cf.type == "choice" else None
        fields.append(Field(f"custom.{cf.name}", cf.label, kind, _custom_compiler(cf), choices,
                            ops, _l("Custom fields")))
    return fields


def _sales_fields() -> list[Field]:
    if not is_active("sales"):
        return []
    from modules.sales import services

    def compile_(op, rule, now):
        buyers = services.category_buyers(int(rule["value"]))
        return Customer.id.not_in(buyers) if op == "has_not" else Customer.id.in_(buyers)

    choices = lambda: [(str(i), n) for i, n in services.product_categories()]  # noqa: E731
    return [Field("product_category", _l("Bought from product category"), "tag", compile_,
                  choices, ("has", "has_not"), _l("Purchases"))]


def all_fields() -> dict[str, Field]:
    """Every field usable now, by key (custom fields and module fields included)."""
    found = _builtin() + _custom_fields() + _sales_fields()
    found += [f for f, active in _REGISTERED.values() if active is None or active()]
    return {f.key: f for f in found}
