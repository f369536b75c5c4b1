"""Merging two records of one customer: the survivor keeps its id and takes everything.

    add_merge_handler(app, handler)     # in a module's register(app)
    def handler(survivor_id: int, loser_id: int) -> None: ...

A handler moves its module's rows from the loser to the survivor (``UPDATE ... SET
customer_id = survivor_id WHERE customer_id = loser_id``, deduplicating where a row may exist
once per customer). Handlers run inside the merge's transaction, before the loser is deleted,
in the order they were registered, whether or not the module is licensed at the moment (its
rows must follow the customer either way). A handler that raises undoes the whole merge. Do
not commit in a handler. After the handlers, ``core.events.customers_merged`` is sent with
``survivor`` and ``loser`` (both still loaded) for listeners that only need to know.

The core moves contact points (deduplicated), addresses (deduplicated), tags, custom field
values, affiliations (deduplicated), notes and calls, tasks and purchases; drops the loser's
analytics scores (the survivor's are recomputed by the next run). The loser is then deleted
and a ``CustomerMerge`` row remains as its tombstone: the loser's old pages redirect to the
survivor. One audit entry ``customer.merge`` names who merged which ids and which record each
field was taken from (the choice, not the values: the audit log is append-only and must not
keep personal data that anonymisation could not remove).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, DateTime, ForeignKey, String, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from core import audit
from core.customers.models import Affiliation, Customer, Note, Task
from core.database import utcnow
from core.events import customers_merged, emit
from core.extensions import db
from core.i18n import normalize

KEY = "crm_merge_handlers"

Handler = Callable[[int, int], None]


def add_merge_handler(app: Flask, handler: Handler) -> None:
    """Register ``handler(survivor_id, loser_id)``, run inside every merge's transaction."""
    app.extensions.setdefault(KEY, []).append(handler)


class MergeError(ValueError):
    """The merge cannot be done (or was undone); the message says why, for the user."""


class CustomerMerge(db.Model):
    """A merged-away customer's tombstone: its old id now means ``survivor_id``."""

    __tablename__ = "core_customer_merge"
    id: Mapped[int] = mapped_column(primary_key=True)
    survivor_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    loser_id: Mapped[int] = mapped_column(unique=True)  # deleted: no foreign key
    loser_name: Mapped[str] = mapped_column(String(200), default="")
    by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kept: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> id it was taken from


@dataclass(frozen=True)
class Field:
    """A customer field the user chooses a value for when two records differ."""

    name: str
    label: str
    kind: str = "text"  # how to show it: text, code, date, bool, user, team, custom types


FIELDS = (
    Field("display_name", _l("Display name")),
    Field("first_name", _l("First name")),
    Field("last_name", _l("Last name")),
    Field("legal_name", _l("Legal name")),
    Field("national_code", _l("National code"), "code"),
    Field("national_id", _l("National id"), "code"),
    Field("economic_code", _l("Economic code"), "code"),
    Field("birthday", _l("Birthday"), "date"),
    Field("anniversary", _l("Wedding anniversary"), "date"),
    Field("source", _l("Source")),
    Field("owner_id", _l("Owner"), "user"),
    Field("team_id", _l("Team"), "team"),
    Field("consent_email", _l("Agrees to receive emails"), "bool"),
    Field("consent_sms", _l("Agrees to receive text messages"), "bool"),
)
_BY_NAME = {f.name: f for f in FIELDS}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {}


def _get(customer: Customer, name: str) -> Any:
    if name.startswith("custom."):
        return (customer.custom or {}).get(name[len("custom."):])
    return getattr(customer, name)


def fields_of(a: Customer, b: Customer) -> list[Field]:
    """The fields to compare for these two customers, custom fields last."""
    from core.customers.custom_fields import definitions

    defined = {d.name: d for d in definitions()}
    names = sorted(set(a.custom or {}) | set(b.custom or {}),
                   key=lambda n: (defined[n].position, defined[n].id) if n in defined else
                   (1 << 30, 0))
    custom = [Field("custom." + n, defined[n].label if n in defined else n,
                    "custom_" + (defined[n].type if n in defined else "text")) for n in names]
    return list(FIELDS) + custom


def differences(a: Customer, b: Customer) -> list[tuple[Field, Any, Any]]:
    """(field, a's value, b's value) for every field where the two records differ.

    The display name is left out while both follow their names: it will follow the names
    chosen for the merged record.
    """
    follow = _derived(a) and _derived(b)
    return [(f, _get(a, f.name), _get(b, f.name)) for f in fields_of(a, b)
            if _get(a, f.name) != _get(b, f.name)
            and not (_empty(_get(a, f.name)) and _empty(_get(b, f.name)))
            and not (follow and f.name == "display_name")]


def default_source(field: Field, a: Customer, b: Customer) -> Customer:
    """Whose value a field keeps unless the user chooses: ``a``'s, or ``b``'s if ``a`` has none.

    Consent flags never fill a gap: a "no" may be a refusal, so ``a``'s answer stands.
    """
    if field.kind == "bool" or not _empty(_get(a, field.name)):
        return a
    return b


def _derived_name(customer: Customer) -> str:
    if customer.kind == "organisation":
        return customer.legal_name
    return " ".join(p for p in (customer.first_name, customer.last_name) if p)


def _derived(customer: Customer) -> bool:
    """Whether the display name follows the names (it was not typed by hand)."""
    return customer.display_name == _derived_name(customer)


def check_mergeable(survivor: Customer, loser: Customer) -> None:
    """Raise MergeError when these two records cannot be merged."""
    if survivor.id == loser.id:
        raise MergeError(_("Choose two different customers."))
    if survivor.kind != loser.kind:
        raise MergeError(_("A person and an organisation cannot be merged."))
    if survivor.anonymised_at or loser.anonymised_at:
        raise MergeError(_("An anonymised customer cannot be merged."))


def merge_customers(survivor: Customer, loser: Customer,
                    keep: Mapping[str, int] | None = None, *, by=None) -> CustomerMerge:
    """Merge ``loser`` into ``survivor`` in the current transaction; the caller commits.

    ``keep`` maps a field name (see ``FIELDS``; custom fields as ``"custom.<name>"``) to the
    id of the record whose value wins. Fields not named keep ``default_source``'s value. On
    MergeError the caller must roll back: handlers may already have written.
    """
    check_mergeable(survivor, loser)
    keep = dict(keep or {})
    fields = {f.name: f for f in fields_of(survivor, loser)}
    for name, source in keep.items():
        if name not in fields:
            raise MergeError(_("%(field)s is not a field that can be merged.", field=name))
        if source not in (survivor.id, loser.id):
            raise MergeError(_("Keep each value from one of the two customers."))
    locked = db.session.execute(select(Customer.id).where(
        Customer.id.in_((survivor.id, loser.id))).with_for_update()).scalars().all()
    if len(locked) != 2:
        raise MergeError(_("One of the customers no longer exists; it may have just been "
                           "merged by someone else."))
    db.session.flush()
    differing = {f.name for f, _a, _b in differences(survivor, loser)}
    chosen = {}
    sources = {}
    for name, field in fields.items():
        source = (survivor if keep[name] == survivor.id else loser) if name in keep \
            else default_source(field, survivor, loser)
        chosen[name], sources[name] = _get(source, name), source.id
    derived = _derived(survivor)
    loser_name = loser.display_name
    moved = _move_core_rows(survivor, loser)
    custom = {**(loser.custom or {}), **(survivor.custom or {})}
    for name, value in chosen.items():
        if name.startswith("custom."):
            custom[name[len("custom."):]] = value
        else:
            setattr(survivor, name, value)
    survivor.custom = {k: v for k, v in custom.items() if not _empty(v)}
    if "display_name" not in keep and derived and _derived_name(survivor):
        survivor.display_name = _derived_name(survivor)
    db.session.flush()
    tombstone = CustomerMerge(survivor_id=survivor.id, loser_id=loser.id,
                              loser_name=loser_name, by_id=getattr(by, "id", None),
                              kept={k: v for k, v in sources.items() if k in differing})
    db.session.add(tombstone)
    _run_handlers(survivor.id, loser.id)
    emit(customers_merged, survivor=survivor, loser=loser)
    db.session.delete(loser)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise MergeError(_("The merge was cancelled and nothing was changed: some records "
                           "still belong to the second customer (a module without a merge "
                           "handler?).")) from exc
    audit.record("customer.merge", target=f"customer:{survivor.id}",
                 user_id=getattr(by, "id", None),
                 detail={"survivor_id": survivor.id, "loser_id": loser.id,
                         "kept": tombstone.kept, "moved": moved})
    return tombstone


def part_of(handler: Callable) -> str:
    """The module (or core part) a handler belongs to, to name it in a message."""
    name = getattr(handler, "__module__", None) or "?"
    return name.removeprefix("modules.").removeprefix("core.").split(".")[0]


def _run_handlers(survivor_id: int, loser_id: int) -> None:
    for handler in current_app.extensions.get(KEY, []):
        try:
            handler(survivor_id, loser_id)
        except Exception as exc:  # any failure undoes the merge; the user learns which part
            raise MergeError(_("The merge was cancelled and nothing was changed: %(part)s "
                               "could not move its records (%(error)s).",
                               part=part_of(handler),
                               error=str(exc) or type(exc).__name__)) from exc


def _move_core_rows(survivor: Customer, loser: Customer) -> dict[str, int]:
    """Contact points, addresses, tags, affiliations, notes, tasks, purchases; scores dropped."""
    from core.analytics.models import CustomerScore, Purchase

    moved = {"contacts": 0, "addresses": 0}
    have = {(c.kind, c.value) for c in survivor.contacts}
    kinds = {c.kind for c in survivor.contacts}
    for contact in list(loser.contacts):
        if (contact.kind, contact.value) in have:
            continue  # the same mobile or email twice: the loser's copy goes with it
        contact.primary = contact.primary and contact.kind not in kinds
        contact.customer = survivor
        have.add((contact.kind, contact.value))
        moved["contacts"] += 1

    def place(address):
        return (normalize(address.province), normalize(address.city),
                normalize(address.line), address.postal_code or "")

    places = {place(a) for a in survivor.addresses}
    for address in list(loser.addresses):
        if place(address) not in places:
            address.customer = survivor
            places.add(place(address))
            moved["addresses"] += 1
    survivor.tags = survivor.tags + [t for t in loser.tags if t not in survivor.tags]
    moved["affiliations"] = _move_affiliations(survivor.id, loser.id)
    for name, model in (("notes", Note), ("tasks", Task), ("purchases", Purchase)):
        result = db.session.execute(update(model).where(model.customer_id == loser.id)
                                    .values(customer_id=survivor.id))
        moved[name] = result.rowcount
    db.session.execute(delete(CustomerScore).where(CustomerScore.customer_id == loser.id))
    db.session.execute(update(CustomerMerge).where(CustomerMerge.survivor_id == loser.id)
                       .values(survivor_id=survivor.id))
    return moved


def _move_affiliations(survivor_id: int, loser_id: int) -> int:
    links = db.session.execute(select(Affiliation).where(
        (Affiliation.person_id.in_((survivor_id, loser_id)))
        | (Affiliation.organisation_id.in_((survivor_id, loser_id))))
        .order_by(Affiliation.id)).scalars().all()
    seen: dict[tuple[int, int], Affiliation] = {}
    moved = 0
    for link in sorted(links, key=lambda a: loser_id in (a.person_id, a.organisation_id)):
        pair = tuple(survivor_id if i == loser_id else i
                     for i in (link.person_id, link.organisation_id))
        if pair in seen:
            seen[pair].role = seen[pair].role or link.role
            db.session.delete(link)
            continue
        seen[pair] = link
        if (link.person_id, link.organisation_id) != pair:
            link.person_id, link.organisation_id = pair
            moved += 1
    return moved


def survivor_of(customer_id: int) -> int | None:
    """The id that a merged-away customer's id now means, or None."""
    return db.session.execute(select(CustomerMerge.survivor_id)
                              .where(CustomerMerge.loser_id == customer_id)).scalar()


def merge_entries(customer: Customer) -> list:
    """Timeline entries: the records merged into this customer."""
    from core.customers.timeline import TimelineEntry

    rows = db.session.execute(select(CustomerMerge).where(
        CustomerMerge.survivor_id == customer.id).order_by(CustomerMerge.id)).scalars()
    return [TimelineEntry(at=row.at, kind="merge",
                          title=_("Merged with customer %(number)d", number=row.loser_id),
                          detail=row.loser_name) for row in rows]
