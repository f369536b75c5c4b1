"""Matching and writing one batch of import records, with a handful of statements per batch.

A record whose mobile, email or national code belongs to an existing customer updates that
customer; records of one file that share one of these become one customer. A record that
matches two different customers, or a customer outside the importer's record scope, is
rejected. ``import_merge.fold`` decides what changes.

The rows go to the driver as executemany of plain INSERT and UPDATE statements, with values
converted by the columns' own SQLAlchemy bind processors, new ids reserved up front (the
PostgreSQL sequence, or the next ids under SQLite's write lock). The ORM is bypassed, so its
per-row audit entries and events are too: the importer audits and signals once per import
and per batch instead.
"""

from operator import itemgetter

from flask_babel import gettext as _
from sqlalchemy import select

from core.customers.import_merge import COLUMNS, Contact, SeenKeys, Target, fold
from core.customers.import_rows import Record
from core.customers.models import Address, ContactPoint, Customer, Tag, customer_tags
from core.database import lock, utcnow
from core.extensions import db

CUSTOMER = Customer.__table__
CONTACT = ContactPoint.__table__
ADDRESS = Address.__table__
TAG = Tag.__table__
ADDRESS_FIELDS = ("province", "city", "line", "postal_code")
TAG_CACHE_MAX = 10_000
LOCK = "customers.import"
ANALYSE_FROM = 5000  # PostgreSQL: refresh the planner's statistics as the tables double
_COLUMN_VALUES = itemgetter(*COLUMNS)


class BatchWriter:
    """Resolves and writes batches for one import (``dry_run``: resolves and counts only)."""

    def __init__(self, *, by=None, dry_run: bool = False):
        self.by = by
        self.dry_run = dry_run
        self.scope = by.role.scope_for("customers") if by is not None else "all"
        self.tag_ids: dict[str, int] = {}
        self.seen = SeenKeys() if dry_run else None
        self.created_ids: list[int] = []
        self.updated_ids: list[int] = []
        self.analyse_at = ANALYSE_FROM
        self.written = 0
        dialect = db.session.get_bind().dialect
        self.sqlite = dialect.name == "sqlite"
        # Values converted as SQLAlchemy would (dates as text on SQLite, JSON, booleans as
        # integers on SQLite, which binds a bool only after a costly failed adapter lookup).
        self.convert = {n: CUSTOMER.c[n].type.dialect_impl(dialect).bind_processor(dialect)
                        for n in ("birthday", "anniversary", "custom", "created_at",
                                  "consent_email", "consent_sms")}
        self.flag = int if self.sqlite else bool
        self.converted = [(i, self.convert[n]) for i, n in enumerate(COLUMNS)
                          if self.convert.get(n) is not None]
        self.no_custom = self._value("custom", {})
        self.quote = dialect.identifier_preparer.quote

    def close(self) -> None:
        if self.seen is not None:
            self.seen.close()

    def write(self, records: list[Record]) -> list[tuple[Record, str]]:
        """Each record's outcome: "created", "updated", "unchanged" or the rejection reason."""
        self.created_ids, self.updated_ids = [], []
        if not self.dry_run:
            lock(LOCK)  # one import writes at a time; on SQLite: the write lock, before reads
        keys = {key for record in records for key in record.keys()}
        matches = self._lookup(keys)
        existing = self._load({cid for ids in matches.values() for cid in ids})
        outcomes: list[tuple[Record, str]] = []
        claimed: dict = {}
        targets: list[Target] = []
        for record in records:
            keys = record.keys()
            target, others = None, None
            for key in keys:
                found = claimed.get(key)
                if found is None:
                    found = _first(matches.get(key), existing)
                    if found is None:
                        continue
                if target is None:
                    target = found
                elif found is not target:
                    others = [target, found] if others is None else [*others, found]
            if others is not None:
                ids = sorted({f"#{t.id}" for t in others if t.id})
                outcomes.append((record, _("matches more than one customer %(ids)s; merge "
                                           "them first", ids=" ".join(ids))))
                continue
            if target is not None and target.id and not self._may_change(target.state):
                outcomes.append((record, _("matches a customer that is not in your records")))
                continue
            if target is None:
                kind = record.kind_for_new()
                problem = record.name_problem(kind)
                if problem:
                    outcomes.append((record, problem))
                    continue
                target = Target.new(kind)
            if not target.records:
                targets.append(target)
            fresh = target.id is None and target.pseudo is None and not target.records
            target.records.append(record)
            outcomes.append((record, "created" if fresh else "updated"))
            for key in keys:
                claimed[key] = target
        changed = [t for t in targets if fold(t)]
        if len(changed) < len(targets):
            kept = {id(t) for t in changed}
            unchanged = {id(r) for t in targets if id(t) not in kept for r in t.records}
            outcomes = [(r, "unchanged" if id(r) in unchanged else o) for r, o in outcomes]
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
        for kind, values, sql in (
                ("contact", contacts, f"SELECT value, customer_id FROM {CONTACT.name} WHERE "
                                      "kind IN ('mobile', 'email') AND value IN "),  # nosec B608
                ("code", codes, f"SELECT national_code, id FROM {CUSTOMER.name} WHERE "
                                "national_code IN ")):  # nosec B608  # model names
            if values:
                marks = ", ".join([self._mark("")] * len(values))
                for value, cid in self._query(f"{sql}({marks})", tuple(values)):
                    found.setdefault((kind, value), set()).add(cid)
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
                loaded[row["id"]] = Target(row["id"], dict(row))
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
                target.address = {k: row[k] for k in ADDRESS_FIELDS}
        return loaded

    def _may_change(self, state: dict) -> bool:
        if self.scope == "all" or state["owner_id"] == self.by.id:
            return True
        return (self.scope == "team" and self.by.team_id is not None
                and state["team_id"] == self.by.team_id)

    # ---- writing -----------------------------------------------------------------------

    def _save(self, targets: list[Target]) -> None:
        now = self._value("created_at", utcnow())
        new = [t for t in targets if t.id is None]
        old = [t for t in targets if t.id is not None]
        if new:
            for target, ident in zip(new, self._new_ids(len(new)), strict=True):
                target.id = ident
            owner, team = getattr(self.by, "id", None), getattr(self.by, "team_id", None)
            self._insert(CUSTOMER, ("id", *COLUMNS, "search_key", "owner_id", "team_id",
                                    "created_at", "updated_at"),
                         [(t.id, *self._columns(t.state), t.state["search_key"], owner, team,
                           now, now) for t in new])
            self.created_ids = [t.id for t in new]
        if old:
            names = (*COLUMNS, "search_key", "updated_at")
            self._execute(f"UPDATE {CUSTOMER.name} SET "  # nosec B608
                          + ", ".join(f"{self.quote(n)} = {self._mark(n)}" for n in names)
                          + f" WHERE id = {self._mark('id')}",
                          [(*self._columns(t.state), t.state["search_key"], now, t.id)
                           for t in old])
            self.updated_ids = [t.id for t in old]
        self._insert(CONTACT, ("customer_id", "kind", "value", "label", "primary"),
                     [(t.id, c.kind, c.value, "", self.flag(c.primary)) for t in targets
                      for c in t.contacts if c.order is None])
        self._insert(ADDRESS, ("customer_id", *ADDRESS_FIELDS),
                     [(t.id, *(t.address[k] for k in ADDRESS_FIELDS)) for t in targets
                      if t.address is not None and t.address_id is None])
        moved = [(*(t.address[k] for k in ADDRESS_FIELDS), t.address_id) for t in targets
                 if t.address_id is not None and t.address_changed]
        if moved:
            assignments = ", ".join(f"{self.quote(k)} = {self._mark(k)}" for k in ADDRESS_FIELDS)
            self._execute(f"UPDATE {ADDRESS.name} SET {assignments} "  # nosec B608
                          f"WHERE id = {self._mark('id')}", moved)
        links = [(t.id, name) for t in targets for name in t.new_tags]
        if links:
            ids = self._tag_ids({name for _cid, name in links})
            self._insert(customer_tags, ("customer_id", "tag_id"),
                         [(cid, ids[name]) for cid, name in links])
        self.written += len(new)
        if not self.sqlite and self.written >= self.analyse_at:
            # Statistics from when the tables were small make PostgreSQL scan them whole for
            # the next batch's lookups; autovacuum catches up too late in a long import.
            for table in (CUSTOMER, CONTACT, ADDRESS, customer_tags):
                db.session.connection().exec_driver_sql(f"ANALYZE {table.name}")
            self.analyse_at = self.written * 2

    def _columns(self, state: dict) -> list:
        values = list(_COLUMN_VALUES(state))
        for i, convert in self.converted:
            value = values[i]
            if value is not None:
                values[i] = self.no_custom if value == {} else convert(value)
        return values

    def _value(self, column: str, value):
        convert = self.convert.get(column)
        return value if convert is None or value is None else convert(value)

    def _mark(self, column: str) -> str:
        if self.sqlite:
            return "?"
        return "%s::JSON" if column == "custom" else "%s"

    def _insert(self, table, columns: tuple, rows: list) -> None:
        if rows:
            self._execute(f"INSERT INTO {table.name} ({', '.join(map(self.quote, columns))}) "
                          f"VALUES ({', '.join(self._mark(c) for c in columns)})", rows)  # nosec B608

    def _execute(self, sql: str, rows: list) -> None:
        db.session.connection().exec_driver_sql(sql, rows)

    def _query(self, sql: str, params: tuple):
        return db.session.connection().exec_driver_sql(sql, params).all()

    def _new_ids(self, n: int) -> list[int]:
        """``n`` customer ids nobody else takes: from the sequence, or after SQLite's max id
        (this transaction holds SQLite's only write lock since ``lock(LOCK)``)."""
        connection = db.session.connection()
        if self.sqlite:
            start = connection.exec_driver_sql(
                f"SELECT coalesce(max(id), 0) + 1 FROM {CUSTOMER.name}").scalar()  # nosec B608
            return list(range(start, start + n))
        return list(connection.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{CUSTOMER.name}', 'id')) "  # nosec B608
            "FROM generate_series(1, %s)", (n,)).scalars())

    def _tag_ids(self, names: set[str]) -> dict[str, int]:
        missing = [n for n in names if n not in self.tag_ids]
        if missing:
            if len(self.tag_ids) > TAG_CACHE_MAX:
                self.tag_ids.clear()
            query = select(TAG.c.name, TAG.c.id).where(TAG.c.name.in_(missing))
            found = dict(db.session.execute(query).all())
            fresh = [(n,) for n in missing if n not in found]
            if fresh:  # under lock(LOCK): no other import adds them meanwhile
                self._insert(TAG, ("name",), fresh)
                found = dict(db.session.execute(query).all())
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
