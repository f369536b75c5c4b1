"""Folding import records into the customer they create or update, as the services would.

A ``Target`` is one customer of a batch: an existing one (``id``, its columns, contacts, tags
and first address as stored) or a new one, with the records that fill it in file order.
``fold`` applies them the way ``services.update_customer`` applies a form: given fields
replace, the display name follows the names unless it was typed, contacts and tags are added
(never removed), custom values merge; it computes the search key (``import_keys``).
``SeenKeys`` remembers, in a dry run, which customer each key would belong to by then.
"""

import sqlite3
import tempfile
from collections import namedtuple

from core.customers.import_keys import search_key

COLUMNS = ("kind", "display_name", "first_name", "last_name", "legal_name", "national_code",
           "national_id", "economic_code", "birthday", "anniversary", "source", "consent_email",
           "consent_sms", "custom")
BLANK = {"kind": "person", "display_name": "", "first_name": "", "last_name": "",
         "legal_name": "", "national_code": None, "national_id": None, "economic_code": None,
         "birthday": None, "anniversary": None, "source": "", "consent_email": False,
         "consent_sms": False, "custom": None}
CONTACT_KINDS = (("email", "emails"), ("mobile", "mobiles"), ("phone", "phones"))
Contact = namedtuple("Contact", "kind value primary order")  # order: the stored id, or None


class Target:
    """One customer a batch writes, and what changes: new contacts, tags, address."""

    __slots__ = ("id", "state", "contacts", "tags", "address", "address_id", "records",
                 "pseudo", "new_tags", "address_changed")

    def __init__(self, id: int | None, state: dict, pseudo: int | None = None):  # noqa: A002
        self.id = id
        self.state = state
        self.contacts: list[Contact] = []
        self.tags: list[str] = []
        self.address: dict | None = None
        self.address_id: int | None = None
        self.records: list = []
        self.pseudo = pseudo  # dry run: a customer an earlier batch would have created
        self.new_tags: list[str] = []
        self.address_changed = False

    @classmethod
    def new(cls, kind: str) -> "Target":
        state = BLANK.copy()
        state["kind"] = kind
        return cls(None, state)


def fold(target: Target) -> bool:
    """Apply the target's records to its state; whether anything changed (sets the key)."""
    if target.pseudo is not None:
        return True  # dry run: made by an earlier batch, its state is not known
    if target.id is None and len(target.records) == 1:
        return _fold_new(target, target.records[0])
    state = target.state
    before = {n: state.get(n) for n in COLUMNS}
    known = {(c.kind, c.value) for c in target.contacts}
    kinds = {c.kind for c in target.contacts}
    tags = set(target.tags)
    for record in target.records:
        derived = state["display_name"] in ("", display_name(state))
        state.update(record.fields)
        if record.custom:
            state["custom"] = {**(state["custom"] or {}), **record.custom}
        if ("display_name" not in record.fields and derived) or not state["display_name"]:
            state["display_name"] = display_name(state)
        for kind, attr in CONTACT_KINDS:
            for value in getattr(record, attr):
                if (kind, value) not in known:
                    known.add((kind, value))
                    target.contacts.append(Contact(kind, value, kind not in kinds, None))
                    kinds.add(kind)
        for name in record.tags:
            if name not in tags:
                tags.add(name)
                target.new_tags.append(name)
        if record.address:
            current = target.address or {"province": "", "city": "", "line": "",
                                         "postal_code": None}
            merged = {**current, **{("line" if k == "address" else k): v
                                    for k, v in record.address.items()}}
            if merged != current:
                target.address, target.address_changed = merged, True
    if state["custom"] is None:
        state["custom"] = {}
    changed = (target.id is None or target.address_changed or bool(target.new_tags)
               or any(c.order is None for c in target.contacts)
               or any(state[n] != before[n] for n in COLUMNS))
    if changed:
        state["search_key"] = _search_key(state, target.contacts)
    return changed


def _fold_new(target: Target, record) -> bool:
    """``fold`` of a new customer from one record (most rows of a first import)."""
    state = target.state
    state.update(record.fields)
    state["custom"] = record.custom  # the record is used once: no copy
    if "display_name" not in record.fields:
        state["display_name"] = display_name(state)
    contacts = target.contacts  # in the order the ORM loads them: kind, primary first
    for kind, values in (("email", record.emails), ("mobile", record.mobiles),
                         ("phone", record.phones)):
        for i, value in enumerate(values):
            contacts.append(Contact(kind, value, i == 0, None))
    target.new_tags = record.tags
    if record.address:
        given = record.address
        target.address = {"province": given.get("province", ""), "city": given.get("city", ""),
                          "line": given.get("address", ""),
                          "postal_code": given.get("postal_code")}
        target.address_changed = True
    state["search_key"] = search_key(state, contacts, canonical=True)
    return True


def display_name(state: dict) -> str:
    """The name a customer shows when none is typed (as ``services._display_name``)."""
    if state.get("kind") == "organisation":
        return state.get("legal_name") or ""
    return " ".join(p for p in (state.get("first_name"), state.get("last_name")) if p)


def _search_key(state: dict, contacts: list[Contact], ordered: bool = False,
                canonical: bool = False) -> str:
    """``search_key_for`` of the customer as the ORM loads it (contacts by kind, primary, id)."""
    if not ordered:
        contacts = [c for _i, c in sorted(enumerate(contacts), key=lambda p: (
            p[1].kind, not p[1].primary, 1 << 62 if p[1].order is None else p[1].order, p[0]))]
    return search_key(state, contacts, canonical)


class SeenKeys:
    """Dry run: the keys earlier batches would have written, on disk so memory stays flat."""

    def __init__(self):
        self.file = tempfile.NamedTemporaryFile(prefix="peyvand-import-", suffix=".db")
        self.db = sqlite3.connect(self.file.name)
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, target INTEGER)")
        self.next = -1

    def find(self, keys) -> dict:
        wanted = {f"{kind}:{value}": (kind, value) for kind, value in keys}
        names, found = list(wanted), {}
        for start in range(0, len(names), 900):
            chunk = names[start:start + 900]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, target FROM seen WHERE key IN ({marks})"  # nosec B608  # "?" only
            for key, target in self.db.execute(sql, chunk):
                found[wanted[key]] = target
        return found

    def add(self, claimed: dict) -> None:
        rows = []
        for (kind, value), target in claimed.items():
            if target.id is None and target.pseudo is None:
                target.pseudo, self.next = self.next, self.next - 1
            rows.append((f"{kind}:{value}", target.id or target.pseudo))
        self.db.executemany("INSERT OR REPLACE INTO seen VALUES (?, ?)", rows)

    def close(self) -> None:
        self.db.close()
        self.file.close()
