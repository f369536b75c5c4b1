"""Duplicate candidates: pairs of customers that are probably one person or organisation.

A pair (two customers of the same kind, both visible to the user, neither anonymised)
matches when they share:

- ``mobile`` / ``email``: a contact point with the same canonical value (``+989...``,
  lowercase email);
- ``national_code`` / ``national_id``: the same code;
- ``name``: a city (compared after ``core.i18n.normalize``) and a near-identical name. The
  name key is the name (first and last name, or the legal name of an organisation, else the
  display name) after ``normalize`` with spaces removed (ZWNJ is already gone), so «علی
  كريمي», «علي کریمی» and «علیکریمی» are one key. Two keys are near-identical when equal,
  or when the longer has 8 or more letters and one edit (a letter added, dropped or
  changed) turns one into the other, or 16 or more letters and two edits.

A name shared by more than ``COMMON_NAME`` customers of one city is a common name, not a
sign of duplication: such a group is left out (its members still pair by mobile, email or
code).

Cost: exact matches are self-joins on indexed columns. Names are blocked by city and by
name key: the customers of a batch of cities are read once, and each key is indexed under
itself and its one- or two-letter deletions, so only keys that share an entry are compared
(the deletion neighbourhood; never all pairs of a city). Memory holds one batch of cities.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import aliased

from core.auth.scope import scoped
from core.customers.models import Address, ContactPoint, Customer
from core.extensions import db
from core.i18n import normalize

REASONS = ("mobile", "email", "national_code", "national_id", "name")
COMMON_NAME = 25
BATCH_ROWS = 20_000


@dataclass
class Pair:
    """Two customer ids (lower first) and why they look alike: reason -> the shared value."""

    first_id: int
    second_id: int
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.first_id}-{self.second_id}"


def name_key(customer_name: str) -> str:
    """A name as compared for duplicates: normalised, without spaces."""
    return normalize(customer_name).replace(" ", "")


def edits_allowed(length: int) -> int:
    """How many edits two names may differ by, for the longer name's ``length`` in letters."""
    return 2 if length >= 16 else 1 if length >= 8 else 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it is over ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _deletions(key: str, depth: int) -> set[str]:
    found = {key}
    frontier = {key}
    for _round in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


def similar_names(names: dict[int, str]) -> Iterator[tuple[int, int]]:
    """(id, id) pairs whose name keys are near-identical, among ``names`` (id -> key)."""
    buckets: dict[str, list[int]] = defaultdict(list)
    for ident, key in names.items():
        # a partner may be longer by as many letters as it may differ: index deep enough
        for variant in _deletions(key, edits_allowed(len(key) + 2)):
            buckets[variant].append(ident)
    by_key: dict[str, int] = defaultdict(int)
    for key in names.values():
        by_key[key] += 1
    seen = set()
    for members in buckets.values():
        if len(members) < 2 or len(members) > COMMON_NAME:
            continue
        for a, b in combinations(sorted(members), 2):
            ka, kb = names[a], names[b]
            if (a, b) in seen or max(by_key[ka], by_key[kb]) > COMMON_NAME:
                continue
            limit = edits_allowed(max(len(ka), len(kb)))
            if ka == kb or (limit and edit_distance(ka, kb, limit) <= limit):
                seen.add((a, b))
                yield a, b


def _visible(stmt, *models):
    """``stmt`` limited to customers (each alias in ``models``) the user may see, not anonymised."""
    for model in models:
        stmt = scoped(stmt, model, "customers").where(model.anonymised_at.is_(None))
    return stmt


def _exact_pairs(reasons: set[str]) -> Iterator[tuple[int, int, str, str]]:
    c1, c2 = aliased(Customer), aliased(Customer)
    kinds = [k for k in ("mobile", "email") if k in reasons]
    if kinds:
        p1, p2 = aliased(ContactPoint), aliased(ContactPoint)
        stmt = (select(p1.customer_id, p2.customer_id, p1.kind, p1.value)
                .join(p2, and_(p2.kind == p1.kind, p2.value == p1.value,
                               p2.customer_id > p1.customer_id))
                .join(c1, c1.id == p1.customer_id).join(c2, c2.id == p2.customer_id)
                .where(p1.kind.in_(kinds), c1.kind == c2.kind))
        yield from db.session.execute(_visible(stmt, c1, c2))
    for code in ("national_code", "national_id"):
        if code in reasons:
            left, right = getattr(c1, code), getattr(c2, code)
            stmt = (select(c1.id, c2.id, literal(code), left)
                    .join(c2, and_(right == left, c2.id > c1.id, c2.kind == c1.kind))
                    .where(left.is_not(None), left != ""))
            yield from db.session.execute(_visible(stmt, c1, c2))


def _person_name(kind: str, display: str, first: str, last: str, legal: str) -> str:
    if kind == "organisation":
        return legal or display
    return " ".join(p for p in (first, last) if p) or display


def _city_batches() -> Iterator[list[str]]:
    """Lists of stored city spellings, whole normalised cities together, ~BATCH_ROWS each."""
    counts = db.session.execute(_visible(
        select(Address.city, func.count(func.distinct(Address.customer_id)))
        .join(Customer, Customer.id == Address.customer_id)
        .where(Address.city != "").group_by(Address.city), Customer)).all()
    cities: dict[str, list] = defaultdict(lambda: [[], 0])
    for spelling, count in counts:
        entry = cities[normalize(spelling)]
        entry[0].append(spelling)
        entry[1] += count
    batch, size = [], 0
    for spellings, count in cities.values():
        if count < 2:
            continue
        batch += spellings
        size += count
        if size >= BATCH_ROWS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _name_pairs() -> Iterator[tuple[int, int, str, str]]:
    for spellings in _city_batches():
        stmt = (select(Customer.id, Customer.kind, Customer.display_name, Customer.first_name,
                       Customer.last_name, Customer.legal_name, Address.city)
                .join(Address, Address.customer_id == Customer.id)
                .where(Address.city.in_(spellings)))
        blocks: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
        shown: dict[int, str] = {}
        rows = db.session.execute(_visible(stmt, Customer))
        for ident, kind, display, first, last, legal, city in rows:
            name = _person_name(kind, display, first, last, legal)
            key = name_key(name)
            if key:
                blocks[(normalize(city), kind)][ident] = key
                shown[ident] = f"{name} · {city}"
        for (_city, _kind), names in blocks.items():
            for a, b in similar_names(names):
                yield a, b, "name", shown[a]


def find_pairs(reasons: Iterable[str] | None = None) -> list[Pair]:
    """Every candidate pair the current user may see, ordered by ids, with all its reasons."""
    wanted = set(reasons or REASONS) & set(REASONS)
    pairs: dict[tuple[int, int], Pair] = {}
    found = list(_exact_pairs(wanted))
    if "name" in wanted:
        found += list(_name_pairs())
    for a, b, reason, value in found:
        a, b = min(a, b), max(a, b)
        pair = pairs.setdefault((a, b), Pair(a, b))
        pair.reasons.setdefault(reason, value)
    return [pairs[k] for k in sorted(pairs)]
