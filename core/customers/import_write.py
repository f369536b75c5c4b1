"""Matching and writing one batch of import records, with a handful of statements per batch.

A record whose mobile, email or national code belongs to an existing customer updates that
customer (empty cells leave fields alone; contacts and tags are added, never removed); records
of one file that share one of these also become one customer. A record that matches two
different customers, or a customer outside the importer's record scope, is rejected.

Rows are written with SQLAlchemy Core (bulk INSERT ... RETURNING, executemany UPDATE), not
the ORM: the search key is computed here with ``search_key_for`` and the import is audited
once by the caller, not once per customer.
"""

import sqlite3
import tempfile
from collections import namedtuple
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select, update

from core.customers.import_rows import Record
from core.customers.keys import search_key_for
from core.customers.models import Address, ContactPoint, Customer, Tag, customer_tags
from core.database import utcnow
from core.extensions import db

CUSTOMER = Customer.__table__
CONTACT = ContactPoint.__table__
ADDRESS = Address.__table__
TAG = Tag.__table__
COLUMNS = ("kind", "display_name", "first_name", "last_name", "legal_name", "national_code",
           "national_id", "economic_code", "birthday", "anniversary", "source", "consent_email",
           "consent_sms", "custom")
BLANK = {"kind": "person", "display_name": "", "first_name": "", "last_name": "",
         "legal_name": "", "source": "", "consent_email": False, "consent_sms": False}
CONTACT_KINDS = (("email", "emails"), ("mobile", "mobiles"), ("phone", "phones"))
TAG_CACHE_MAX = 10_000
Contact = namedtuple("Contact", "kind value primary order")


@dataclass(eq=False)
class Target:
    """One customer a batch writes: existing (``id``) or new, and the records that fill it."""

    id: int | None
    state: dict
    contacts: list = field(default_factory=list)
    tags: list = field(default_factory=list)
    address: dict | None = None
    address_id: int | None = None
    address_changed: bool = False
    records: list = field(default_factory=list)
    pseudo: int | None = None  # dry run: a customer an earlier batch would have created


class BatchWriter:
    """Resolves and writes batches for one import (``dry_run``: resolves and counts only)."""

    def __init__(self, *, by=None, dry_run: bool = False):
        self.by = by
        self.dry_run = dry_run
        self.scope = by.role.scope_for("customers") if by is not None else "all"
        self.tag_ids: dict[str, int] = {}
        self.seen = _SeenKeys() if dry_run else None
        self.created_ids: list[int] = []
        self.updated_ids: list[int] = []

    def close(self) -> None:
        if self.seen is not None:
            self.seen.close()

    def write(self, records: list[Record]) -> list[tuple[Record, str]]:
        """Each record's outcome: "created", "updated", "unchanged" or the rejection reason."""
        self.created_ids, self.updated_ids = [], []
        keys = {key for record in records for key in record.keys()}
        matches = self._lookup(keys)
        existing = self._load({cid for ids in matches.values() for cid in ids})
        outcomes: list[tuple[Record, str]] = []
        claimed: dict = {}
        targets: list[Target] = []
        for record in records:
            found = {claimed.get(k) or _first(matches.get(k), existing) for k in record.keys()}
            found.discard(None)
            if len(found) > 1:
                ids = sorted(f"#{t.id}" for t in found if t.id)
                outcomes.append((record, _("matches more than one customer %(ids)s; merge "
                                           "them first", ids=" ".join(ids))))
                continue
            target = found.pop() if found else None
            if target is not None and target.id and not self._may_change(target.state):
                outcomes.append((record, _("matches a customer that is not in your records")))
                continue
            if target is None:
                problem = record.name_problem()
                if problem:
                    outcomes.append((record, problem))
                    continue
                target = Target(None, {**BLANK, "kind": record.kind_for_new()})
                targets.append(target)
            elif not target.records and target not in targets:
                targets.append(target)
            outcome = "created" if target.id is None and target.pseudo is None \
                and not target.records else "updated"
            target.records.append(record)
            outcomes.append((record, outcome))
            for key in record.keys():
                claimed[key] = target
        changed = [t for t in targets if _apply(t)]
        unchanged = {id(r) for t in targets if t not in changed for r in t.records}
        outcomes = [(r, "unchanged" if id(r) in unchanged and o == "updated" else o)
                    for r, o in outcomes]
        if self.seen is not None:
            self.seen.add(claimed)
        elif changed:
            self._save(changed)
        return outcomes

    # ---- reading -----------------------------------------------------------------------

    def _lookup(self, keys: set) -> dict:
        """key → ids of the customers that have it (existing, or earlier in a dry run)."""
        contacts = [v for kind, v in keys if kind == "contact"]
        codes = [v for kind, v in keys if kind == "code"]
        found: dict = {}
        if contacts:
            rows = db.session.execute(select(CONTACT.c.value, CONTACT.c.customer_id).where(
                CONTACT.c.value.in_(contacts), CONTACT.c.kind.in_(("mobile", "email"))))
            for value, cid in rows:
                found.setdefault(("contact", value), set()).add(cid)
        if codes:
            rows = db.session.execute(select(CUSTOMER.c.national_code, CUSTOMER.c.id).where(
                CUSTOMER.c.national_code.in_(codes), CUSTOMER.c.anonymised_at.is_(None)))
            for code, cid in rows:
                found.setdefault(("code", code), set()).add(cid)
        if self.seen is not None:
            for key, pseudo in self.seen.find(keys - found.keys()).items():
                found[key] = {pseudo}
        return found

    def _load(self, ids: set) -> dict[int, Target]:
        """The current state of the matched customers (columns, contacts, tags, address)."""
        loaded = {i: Target(None, {}, pseudo=i) for i in ids if i < 0}
        ids = [i for i in ids if i > 0]
        if not ids:
            return loaded
        for row in db.session.execute(select(CUSTOMER.c.id, CUSTOMER.c.owner_id,
                                             CUSTOMER.c.team_id, CUSTOMER.c.anonymised_at,
                                             *(CUSTOMER.c[n] for n in COLUMNS))
                                      .where(CUSTOMER.c.id.in_(ids))).mappings():
            if row["anonymised_at"] is None:
                state = dict(row)
                state["custom"] = dict(state["custom"] or {})
                loaded[row["id"]] = Target(row["id"], state)
        for cid, kind, value, primary, ident in db.session.execute(
                select(CONTACT.c.customer_id, CONTACT.c.kind, CONTACT.c.value,
                       CONTACT.c.primary, CONTACT.c.id).where(CONTACT.c.customer_id.in_(ids))):
            if cid in loaded:
                loaded[cid].contacts.append(Contact(kind, value, primary, ident))
        for cid, name in db.session.execute(
                select(customer_tags.c.customer_id, TAG.c.name)
                .join(TAG, TAG.c.id == customer_tags.c.tag_id)
                .where(customer_tags.c.customer_id.in_(ids))):
            if cid in loaded:
                loaded[cid].tags.append(name)
        for row in db.session.execute(select(ADDRESS).where(ADDRESS.c.customer_id.in_(ids))
                                      .order_by(ADDRESS.c.id)).mappings():
            target = loaded.get(row["customer_id"])
            if target is not None and target.address is None:
                target.address_id = row["id"]
                target.address = {k: row[k] for k in ("province", "city", "line",
                                                      "postal_code")}
        return loaded

    def _may_change(self, state: dict) -> bool:
        if self.scope == "all":
            return True
        if state["owner_id"] == self.by.id:
            return True
        return (self.scope == "team" and self.by.team_id is not None
                and state["team_id"] == self.by.team_id)

    # ---- writing -----------------------------------------------------------------------

    def _save(self, targets: list[Target]) -> None:
        now = utcnow()
        new = [t for t in targets if t.id is None]
        old = [t for t in targets if t.id is not None]
        if new:
            owner = getattr(self.by, "id", None)
            team = getattr(self.by, "team_id", None)
            rows = [{**{n: t.state.get(n) for n in COLUMNS}, "search_key": t.state["search_key"],
                     "owner_id": owner, "team_id": team, "created_at": now, "updated_at": now}
                    for t in new]
            ids = db.session.execute(
                insert(CUSTOMER).returning(CUSTOMER.c.id, sort_by_parameter_order=True),
                rows).scalars().all()
            for target, ident in zip(new, ids, strict=True):
                target.id = ident
            self.created_ids = list(ids)
        if old:
            params = [{"b_id": t.id, "b_search_key": t.state["search_key"], "b_updated_at": now,
                       **{f"b_{n}": t.state.get(n) for n in COLUMNS}} for t in old]
            db.session.execute(
                update(CUSTOMER).where(CUSTOMER.c.id == bindparam("b_id")).values(
                    {n: bindparam(f"b_{n}") for n in (*COLUMNS, "search_key", "updated_at")}),
                params)
            self.updated_ids = [t.id for t in old]
        contacts = [{"customer_id": t.id, "kind": c.kind, "value": c.value, "label": "",
                     "primary": c.primary} for t in targets for c in t.contacts
                    if c.order is None]
        if contacts:
            db.session.execute(insert(CONTACT), contacts)
        self._save_addresses(targets)
        self._save_tags(targets)

    def _save_addresses(self, targets: list[Target]) -> None:
        fresh = [{"customer_id": t.id, **t.address} for t in targets
                 if t.address is not None and t.address_id is None]
        if fresh:
            db.session.execute(insert(ADDRESS), fresh)
        moved = [{"b_id": t.address_id, **{f"b_{k}": v for k, v in t.address.items()}}
                 for t in targets if t.address_id is not None and t.address_changed]
        if moved:
            db.session.execute(update(ADDRESS).where(ADDRESS.c.id == bindparam("b_id")).values(
                {k: bindparam(f"b_{k}") for k in ("province", "city", "line", "postal_code")}),
                moved)

    def _save_tags(self, targets: list[Target]) -> None:
        links = [(t.id, name) for t in targets for name in t.state.get("_new_tags", ())]
        if not links:
            return
        ids = self._tag_ids({name for _cid, name in links})
        db.session.execute(insert(customer_tags),
                           [{"customer_id": cid, "tag_id": ids[name]} for cid, name in links])

    def _tag_ids(self, names: set[str]) -> dict[str, int]:
        missing = [n for n in names if n not in self.tag_ids]
        if missing:
            if len(self.tag_ids) > TAG_CACHE_MAX:
                self.tag_ids.clear()
            found = dict(db.session.execute(select(TAG.c.name, TAG.c.id)
                                            .where(TAG.c.name.in_(missing))).all())
            fresh = [{"name": n} for n in missing if n not in found]
            if fresh:
                db.session.execute(_insert_ignoring_duplicates(TAG), fresh)
                found = dict(db.session.execute(select(TAG.c.name, TAG.c.id)
                                                .where(TAG.c.name.in_(missing))).all())
            self.tag_ids.update(found)
        return {n: self.tag_ids[n] for n in names}


def _first(ids, existing: dict):
    """The customer a key points to: the oldest of those that have it (several: duplicates)."""
    if not ids:
        return None
    for ident in sorted(ids, key=lambda i: (i < 0, abs(i))):
        if ident in existing:
            return existing[ident]
    return None


def _apply(target: Target) -> bool:
    """Fold the target's records into its state; whether anything is new. Sets the key."""
    state = target.state
    before = dict(state)
    known = {(c.kind, c.value) for c in target.contacts}
    tags = set(target.tags)
    new_tags: list[str] = []
    for record in target.records:
        derived = state.get("display_name", "") in ("", _display_name(state))
        for name, value in record.fields.items():
            state[name] = value
        if record.custom:
            state["custom"] = {**(state.get("custom") or {}), **record.custom}
        if "display_name" not in record.fields and derived or not state.get("display_name"):
            state["display_name"] = _display_name(state)
        for kind, attr in CONTACT_KINDS:
            for value in getattr(record, attr):
                if (kind, value) not in known:
                    known.add((kind, value))
                    first = not any(c.kind == kind for c in target.contacts)
                    target.contacts.append(Contact(kind, value, first, None))
        for name in record.tags:
            if name not in tags:
                tags.add(name)
                new_tags.append(name)
        if record.address:
            current = target.address or {"province": "", "city": "", "line": "",
                                         "postal_code": None}
            merged = {**current, **{("line" if k == "address" else k): v
                                    for k, v in record.address.items()}}
            if merged != current:
                target.address, target.address_changed = merged, True
    if target.pseudo is not None:
        return True  # dry run: an earlier batch would have created it
    state["_new_tags"] = new_tags
    added = any(c.order is None for c in target.contacts)
    if target.id is None:
        state.setdefault("custom", {})
    changed = target.id is None or added or bool(new_tags) or target.address_changed or any(
        state.get(n) != before.get(n) for n in COLUMNS)
    if changed:
        state["search_key"] = _search_key(state, target.contacts)
    return changed


def _display_name(state: dict) -> str:
    if state.get("kind") == "organisation":
        return state.get("legal_name") or ""
    return " ".join(p for p in (state.get("first_name"), state.get("last_name")) if p)


def _search_key(state: dict, contacts: list[Contact]) -> str:
    """``search_key_for`` of the customer as it will be loaded (contacts by kind, primary)."""
    ordered = sorted(enumerate(contacts), key=lambda p: (
        p[1].kind, not p[1].primary, p[1].order if p[1].order is not None else 1 << 62, p[0]))
    customer = SimpleNamespace(**{n: state.get(n) for n in (
        "display_name", "first_name", "last_name", "legal_name", "national_code",
        "national_id", "economic_code")}, contacts=[c for _i, c in ordered])
    return search_key_for(customer)


def _insert_ignoring_duplicates(table):
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).on_conflict_do_nothing()


class _SeenKeys:
    """Dry run: the keys earlier batches would have written, on disk so memory stays flat."""

    def __init__(self):
        self.file = tempfile.NamedTemporaryFile(prefix="peyvand-import-", suffix=".db")
        self.db = sqlite3.connect(self.file.name)
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, target INTEGER)")
        self.next = -1
        self.pseudo: dict[int, int] = {}

    def find(self, keys) -> dict:
        wanted = {f"{kind}:{value}": (kind, value) for kind, value in keys}
        found = {}
        names = list(wanted)
        for start in range(0, len(names), 900):
            chunk = names[start:start + 900]
            marks = ",".join("?" * len(chunk))
            for key, target in self.db.execute(
                    f"SELECT key, target FROM seen WHERE key IN ({marks})", chunk):
                found[wanted[key]] = target
        return found

    def add(self, claimed: dict) -> None:
        rows = []
        for (kind, value), target in claimed.items():
            if target.id is None and target.pseudo is None:
                target.pseudo = self.next
                self.next -= 1
            rows.append((f"{kind}:{value}", target.id or target.pseudo))
        self.db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?)", rows)

    def close(self) -> None:
        self.db.close()
        self.file.close()
