"""Segment rules: validate a rule tree and compile it to ONE SQL condition over core_customer.

A tree is ``{"match": "all"|"any", "rules": [leaf | tree, ...]}``; a leaf is
``{"field": key, "op": op, "value": ...}`` (purchase totals also take ``"days"``). The fields
live in ``modules.marketing.segment_fields``; other modules add theirs with ``register_field``.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, false, func, inspect, not_, or_, select, true
from sqlalchemy.orm.attributes import set_committed_value

from core.customers.models import ContactPoint, Customer
from core.database import utcnow
from core.extensions import db
from core.messaging.models import OptOut
from modules.marketing.models.segments import Segment, SegmentMember
from modules.marketing.segment_fields import Field, RuleError, all_fields, register_field

__all__ = ["RuleError", "Field", "register_field", "validate", "condition", "members_statement",
           "count", "members", "segment_customer_ids", "empty_rules", "CHANNEL_CONTACT"]

MAX_DEPTH = 4
MAX_RULES = 60
# The contact kind that carries each messaging channel.
CHANNEL_CONTACT = {"email": "email", "sms": "mobile"}


def empty_rules() -> dict:
    """A tree that matches every customer."""
    return {"match": "all", "rules": []}


def validate(tree: Any) -> dict:
    """The tree with every value normalised (ISO dates, numbers, ids); raises ``RuleError``."""
    fields = all_fields()
    counter = [0]
    return _validate(tree, fields, 1, counter, "")


def _validate(tree: Any, fields: dict[str, Field], depth: int, counter: list, where: str) -> dict:
    if not isinstance(tree, dict):
        raise RuleError(_("A group of rules must be an object with match and rules."), where)
    match = tree.get("match", "all")
    if match not in ("all", "any"):
        raise RuleError(_("Match must be all or any, not %(value)s.", value=match), where)
    if depth > MAX_DEPTH:
        raise RuleError(_("Groups can be nested at most %(n)d deep.", n=MAX_DEPTH), where)
    rules = tree.get("rules", [])
    if not isinstance(rules, list):
        raise RuleError(_("The rules of a group must be a list."), where)
    out = []
    for index, rule in enumerate(rules):
        path = f"{where}{index + 1}" if not where else f"{where}.{index + 1}"
        counter[0] += 1
        if counter[0] > MAX_RULES:
            raise RuleError(_("A segment can have at most %(n)d rules.", n=MAX_RULES), path)
        if isinstance(rule, dict) and "rules" in rule:
            out.append(_validate(rule, fields, depth + 1, counter, path))
        else:
            out.append(_validate_leaf(rule, fields, path))
    return {"match": match, "rules": out}


def _validate_leaf(rule: Any, fields: dict[str, Field], path: str) -> dict:
    if not isinstance(rule, dict):
        raise RuleError(_("A rule must be an object with field, op and value."), path)
    key = str(rule.get("field") or "")
    field = fields.get(key)
    if field is None:
        raise RuleError(_("There is no field named %(name)s.", name=key or "-"), path)
    op = str(rule.get("op") or "")
    if op not in field.ops:
        raise RuleError(_("%(field)s cannot be used with the operator %(op)s.",
                          field=field.label, op=op or "-"), path)
    try:
        clean = field.parse(op, rule.get("value"), rule)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise RuleError(f"{field.label}: {exc}", path) from None
    return {"field": key, "op": op, **clean}


def condition(tree: dict, now: datetime | None = None):
    """The SQL condition of a validated tree (an empty group matches everyone)."""
    now = now or utcnow()
    fields = all_fields()
    return _compile(tree, fields, now)


def _compile(tree: dict, fields: dict[str, Field], now: datetime):
    parts = []
    for rule in tree.get("rules", []):
        if "rules" in rule:
            parts.append(_compile(rule, fields, now))
            continue
        field = fields.get(rule["field"])
        # A field that went away (module turned off, custom field deleted) matches nobody.
        parts.append(field.compile(rule["op"], rule, now) if field else false())
    if not parts:
        return true()
    return and_(*parts) if tree.get("match", "all") == "all" else or_(*parts)


def members_statement(segment: Segment, now: datetime | None = None) -> Select:
    """A select of the ids of the segment's (not anonymised) customers."""
    stmt = select(Customer.id).where(Customer.anonymised_at.is_(None))
    if segment.kind == "static":
        return stmt.where(exists().where(SegmentMember.segment_id == segment.id,
                                         SegmentMember.customer_id == Customer.id))
    return stmt.where(condition(segment.rules or empty_rules(), now))


def count(segment: Segment, now: datetime | None = None) -> int:
    """How many customers the segment has now; remembered on the segment (caller commits)."""
    stmt = select(func.count()).select_from(members_statement(segment, now).subquery())
    total = db.session.execute(stmt).scalar_one()
    stamp = utcnow()
    if inspect(segment).persistent:  # a cached figure, not an edit: no audit entry, same
        table = Segment.__table__   # updated_at
        db.session.execute(table.update().where(table.c.id == segment.id).values(
            last_count=total, counted_at=stamp, updated_at=table.c.updated_at))
    set_committed_value(segment, "last_count", total)
    set_committed_value(segment, "counted_at", stamp)
    return total


STALE = timedelta(minutes=15)  # a count older than this is worked out again
RECOUNT_EVERY_SECONDS = 60


def _is_stale(segment: Segment, now: datetime) -> bool:
    counted = segment.counted_at
    return counted is None or counted.replace(tzinfo=counted.tzinfo or UTC) < now - STALE


def recount_stale(segments, limit: int) -> int:
    """Recount up to ``limit`` of ``segments`` whose count is stale; returns how many.

    Each segment is claimed first by a conditional update of its ``counted_at``, committed
    before the count, so concurrent viewers and workers never count one segment twice (a
    count over a million customers takes a second or two). Commits."""
    now = utcnow()
    table = Segment.__table__
    stale = [(segment, segment.id, segment.counted_at) for segment in segments
             if _is_stale(segment, now)]
    if not stale:
        return 0
    db.session.commit()  # end the read, so each claim opens a fresh write transaction
    done = 0
    for segment, segment_id, seen in stale:
        if done >= limit:
            break
        claimed = db.session.execute(table.update().where(
            table.c.id == segment_id,
            table.c.counted_at.is_(None) if seen is None else table.c.counted_at == seen,
        ).values(counted_at=now, updated_at=table.c.updated_at)).rowcount
        db.session.commit()
        if not claimed:  # someone else is counting it right now
            continue
        count(segment)
        db.session.commit()
        done += 1
    return done


def recount_stale_segments(limit: int = 100) -> int:
    """The periodic job: recount the stale segments (the list page only shows counts)."""
    threshold = utcnow() - STALE
    stale = db.session.execute(select(Segment).where(
        (Segment.counted_at.is_(None)) | (Segment.counted_at < threshold))
        .order_by(Segment.counted_at.asc().nulls_first(), Segment.id).limit(limit)).scalars()
    return recount_stale(list(stale), limit)


def consent_condition(channel: str):
    """Customers who agreed to ``channel`` and have a contact of its kind not opted out."""
    if channel not in CHANNEL_CONTACT:
        raise ValueError(f"unknown channel {channel!r}; use email or sms")
    flag = Customer.consent_email if channel == "email" else Customer.consent_sms
    reachable = exists().where(
        ContactPoint.customer_id == Customer.id,
        ContactPoint.kind == CHANNEL_CONTACT[channel],
        not_(exists().where(OptOut.channel == channel, OptOut.address == ContactPoint.value)))
    return and_(flag.is_(True), reachable)


def segment_customer_ids(segment: Segment, channel: str | None) -> Select:
    """Ids of the segment's members who may get ``channel`` ("email"/"sms"; None: everyone).

    A consenting member has the consent flag of the channel on the customer, AND at least one
    contact of its kind (email / mobile) whose canonical value is NOT in the messaging opt-out
    list of that channel. One SQL statement; anonymised customers are never members.
    """
    stmt = members_statement(segment)
    return stmt.where(consent_condition(channel)) if channel else stmt


def members(segment: Segment, consenting: str | None = None) -> Select:
    """A select of the member customers (ordered by name), optionally only those consenting."""
    ids = segment_customer_ids(segment, consenting)
    return select(Customer).where(Customer.id.in_(ids)).order_by(Customer.display_name,
                                                                 Customer.id)


class SegmentError(ValueError):
    """A segment that cannot be saved; ``errors`` by field name."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def rule_message(exc: RuleError) -> str:
    """A rule error with the rule's position ("Rule 2.1: ...")."""
    return _("Rule %(where)s: %(message)s", where=exc.where, message=exc.message) \
        if exc.where else exc.message


def save(segment: Segment | None, *, name: str, description: str = "", kind: str = "dynamic",
         rules: Any = None, by_id: int | None = None) -> Segment:
    """Create (``segment`` None) or update a segment after validating it (caller commits)."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    clean: dict = {}
    if not name:
        errors["name"] = _("Enter a name.")
    else:
        taken = select(Segment.id).where(Segment.name == name)
        if segment is not None and segment.id:
            taken = taken.where(Segment.id != segment.id)
        if db.session.execute(taken).first():
            errors["name"] = _("A segment named %(name)s already exists.", name=name)
    if kind not in ("dynamic", "static"):
        errors["kind"] = _("The kind is dynamic or static.")
    elif kind == "dynamic":
        try:
            clean = validate(rules if rules is not None else empty_rules())
        except RuleError as exc:
            errors["rules"] = rule_message(exc)
    if errors:
        raise SegmentError(errors)
    if segment is None:
        segment = Segment(created_by_id=by_id)
        db.session.add(segment)
    segment.name, segment.description, segment.kind = name, (description or "").strip(), kind
    segment.rules = clean
    db.session.flush()
    count(segment)
    return segment
