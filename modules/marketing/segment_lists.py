"""Static lists (add, remove, import mobiles/emails from CSV) and the members CSV export."""

import csv
import io
from collections.abc import Iterable, Iterator

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from core.customers.models import ContactPoint, Customer
from core.extensions import db
from core.i18n import jdate, to_latin_digits
from core.messaging.addresses import canonical_email
from core.validators import canonical_mobile
from modules.marketing.models.segments import Segment, SegmentMember
from modules.marketing.segments import members

BATCH = 1000
MAX_IMPORT = 50_000


def add_members(segment: Segment, customer_ids: Iterable[int]) -> int:
    """Put customers on a static list; returns how many were new (caller commits)."""
    wanted = {int(i) for i in customer_ids}
    if not wanted:
        return 0
    known = set(db.session.execute(select(Customer.id).where(
        Customer.id.in_(wanted), Customer.anonymised_at.is_(None))).scalars())
    present = set(db.session.execute(select(SegmentMember.customer_id).where(
        SegmentMember.segment_id == segment.id, SegmentMember.customer_id.in_(known)))
        .scalars())
    new = known - present
    db.session.add_all(SegmentMember(segment_id=segment.id, customer_id=i) for i in sorted(new))
    db.session.flush()
    return len(new)


def remove_members(segment: Segment, customer_ids: Iterable[int]) -> int:
    """Take customers off a static list; returns how many were removed (caller commits)."""
    ids = [int(i) for i in customer_ids]
    if not ids:
        return 0
    return db.session.execute(delete(SegmentMember).where(
        SegmentMember.segment_id == segment.id, SegmentMember.customer_id.in_(ids))).rowcount


def _canonical(cell: str) -> str | None:
    text = to_latin_digits(cell).strip()
    if not text:
        return None
    try:
        return canonical_email(text) if "@" in text else canonical_mobile(text)
    except ValueError:
        return None


def import_contacts(segment: Segment, data: str) -> tuple[int, list[str]]:
    """Add the customers whose mobile or email is in a CSV (any column; caller commits).

    Returns how many were added and the cells that matched no customer (header included).
    """
    values: dict[str, str] = {}
    unmatched: list[str] = []
    for row in csv.reader(io.StringIO(data.lstrip("\ufeff"))):
        for cell in row:
            canonical = _canonical(cell)
            if canonical:
                values.setdefault(canonical, cell.strip())
            elif cell.strip():
                unmatched.append(cell.strip())
            if len(values) + len(unmatched) > MAX_IMPORT:
                raise ValueError(_("A file can have at most %(n)d values.", n=MAX_IMPORT))
    found: dict[str, int] = {}
    keys = list(values)
    for start in range(0, len(keys), BATCH):
        found.update(db.session.execute(select(ContactPoint.value, ContactPoint.customer_id)
                                        .where(ContactPoint.value.in_(keys[start:start + BATCH])))
                     .all())
    unmatched += [values[k] for k in keys if k not in found]
    return add_members(segment, found.values()), unmatched


def export_rows(segment: Segment) -> Iterator[list]:
    """The members as CSV rows with headers in the current language (Latin digits)."""
    kinds = {"person": _("Person"), "organisation": _("Organisation")}
    yield [_("Id"), _("Kind"), _("Display name"), _("Mobiles"), _("Emails"), _("City"),
           _("Email consent"), _("SMS consent"), _("Added")]
    stmt = members(segment).options(selectinload(Customer.contacts),
                                    selectinload(Customer.addresses))
    for c in db.session.execute(stmt.execution_options(yield_per=BATCH)).scalars():
        yield [c.id, kinds.get(c.kind, c.kind), c.display_name, " ".join(c.values("mobile")),
               " ".join(c.values("email")), " ".join(a.city for a in c.addresses if a.city),
               _("Yes") if c.consent_email else _("No"), _("Yes") if c.consent_sms else _("No"),
               jdate(c.created_at, locale="en") if c.created_at else ""]


def export_csv(segment: Segment) -> str:
    """The whole members CSV (UTF-8 with BOM so spreadsheet programs read Persian)."""
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out).writerows(export_rows(segment))
    return out.getvalue()
