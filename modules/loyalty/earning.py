"""Earning rules: what a purchase, a birthday, an anniversary or a referral earns.

A purchase earns, per active rule (each its own ledger ``earn`` entry with the rule's id and
the key ``earn:<reference>:<rule id>``):

- ``spend``: ``points`` per ``per_amount`` rials (floored), of the lines of its category when
  it has one — these are the *base* points;
- ``category``: the extra of a multiplier on the base points of the lines of its category
  (×2 on laptops: the laptop lines' base points once more);
- ``window``: the extra of a multiplier on the base points between two dates (Nowruz week);
- ``first_purchase``: a fixed bonus on the member's first purchase (once per member);
- ``referral``: a fixed bonus to the referred member on their first purchase and to the one
  who referred them (once each).

The member's tier adds the extra of its ``multiplier_bp`` on the base points (an entry
without a rule, key ``earn:<reference>:tier``). Every multiplier adds to the base points; they
do not multiply each other. A rule applies from ``starts_on`` to ``ends_on`` (inclusive) when
they are set, to purchases of at least ``min_amount`` rials, and to members of ``tier_id``
when it is set. ``cap_per_day`` / ``cap_per_member`` limit what one rule gives one member in
a Tehran day / ever (counted from the ledger); a capped rule gives what is left of its cap.

Birthdays (the customer's birth date, by the Jalali calendar) and membership anniversaries
earn through the daily job ``loyalty.occasions``, once per member per Jalali year.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import jdatetime
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.events import invoice_posted, module_listener
from core.extensions import db
from core.i18n import format_number, local_date, utc_range
from core.money import format_money
from modules.loyalty import ledger
from modules.loyalty.labels import reference_label
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.members import Member
from modules.loyalty.models.rules import Rule

log = logging.getLogger(__name__)

BP = 10000  # basis points of a multiplier: 10000 = ×1
PURCHASE_KINDS = ("spend", "category", "window", "first_purchase", "referral")


@dataclass
class PreviewRow:
    """What one rule (or the tier, ``rule`` None) gives a purchase."""

    name: str
    points: int
    rule: Rule | None = None
    key_part: str = ""  # the last part of the entry's key: the rule id, or "tier"
    detail: str = ""
    capped: bool = False  # the rule's cap reduced it


@dataclass
class Preview:
    """What a purchase earns: one row per rule, and the total."""

    amount: int
    rows: list[PreviewRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(row.points for row in self.rows)


# --- the rules ------------------------------------------------------------------------------

def active_rules(kinds: Iterable[str] | None = None) -> list[Rule]:
    stmt = select(Rule).where(Rule.active.is_(True)).order_by(Rule.id)
    if kinds is not None:
        stmt = stmt.where(Rule.kind.in_(tuple(kinds)))
    return list(db.session.execute(stmt).scalars())


def _applies(rule: Rule, day: date, amount: int | None, tier_id: int | None) -> bool:
    if rule.starts_on is not None and day < rule.starts_on:
        return False
    if rule.ends_on is not None and day > rule.ends_on:
        return False
    if amount is not None and amount < (rule.min_amount or 0):
        return False
    return not (rule.tier_id is not None and rule.tier_id != tier_id)


def _in(category_id, lines) -> int:
    """Rials of the lines in ``category_id`` (all lines when it is None)."""
    return sum(rials for cat, rials in lines if category_id is None or cat == category_id)


def _spend_points(spend_rules: list[Rule], lines) -> int:
    total = 0
    for rule in spend_rules:
        if rule.per_amount and rule.points:
            total += max(_in(rule.category_id, lines), 0) * rule.points // rule.per_amount
    return total


def _multiplied(points: int, multiplier_bp: int) -> int:
    return max(points * (multiplier_bp - BP) // BP, 0)


def decimal_text(value: int, scale: int) -> str:
    """``value / scale`` with its needed decimals, in the current locale's digits ("۱٫۵")."""
    from flask_babel import get_locale

    from core.i18n import localize_digits

    whole, part = divmod(int(value or 0), scale)
    width = len(str(scale)) - 1
    text = localize_digits(str(whole) + (f".{part:0{width}d}".rstrip("0") if part else ""))
    return text.replace(".", "٫") if str(get_locale() or "fa").startswith("fa") else text


def _times(multiplier_bp: int) -> str:
    return "×" + decimal_text(multiplier_bp, BP)


def rule_used(member_id: int, rule_id: int, day: date | None = None) -> int:
    """Points the rule gave the member (on ``day``, a Tehran day, when given; else ever)."""
    stmt = select(func.coalesce(func.sum(Entry.points), 0)).where(
        Entry.member_id == member_id, Entry.rule_id == rule_id, Entry.kind == "earn")
    if day is not None:
        start, end = utc_range(day, day + timedelta(days=1))
        stmt = stmt.where(Entry.created_at >= start, Entry.created_at < end)
    return int(db.session.execute(stmt).scalar())


def _cap(row: PreviewRow, member: Member | None, day: date) -> None:
    rule = row.rule
    if rule is None or member is None or row.points <= 0:
        return
    left = row.points
    if rule.cap_per_day is not None:
        left = min(left, rule.cap_per_day - rule_used(member.id, rule.id, day))
    if rule.cap_per_member is not None:
        left = min(left, rule.cap_per_member - rule_used(member.id, rule.id))
    left = max(left, 0)
    if left < row.points:
        row.points, row.capped = left, True
        row.detail = (row.detail + " " if row.detail else "") + _("(limited by the rule's cap)")


def _is_first(member: Member | None, reference: str | None) -> bool:
    """No earlier purchase earned this member anything (the entries record the rials)."""
    if member is None:
        return True
    stmt = select(Entry.id).where(Entry.member_id == member.id, Entry.kind == "earn",
                                  Entry.amount > 0)
    if reference:
        stmt = stmt.where(Entry.reference != reference)
    return db.session.execute(stmt.limit(1)).first() is None


def preview(amount: int, *, member: Member | None = None, lines=None, day: date | None = None,
            tier=None, first: bool | None = None, reference: str | None = None) -> Preview:
    """What a purchase of ``amount`` rials (``lines`` = [(category id or None, rials)]) on
    ``day`` earns ``member`` (or a member of ``tier``): one row per rule, caps applied."""
    day = day or ledger.today()
    amount = int(amount)
    lines = [(cat, int(rials)) for cat, rials in (lines or [(None, amount)])]
    if tier is None and member is not None:
        tier = member.tier
    tier_id = getattr(tier, "id", None)
    if first is None:
        first = _is_first(member, reference)
    result = Preview(amount=amount)
    rules = [r for r in active_rules(PURCHASE_KINDS) if _applies(r, day, amount, tier_id)]
    spend = [r for r in rules if r.kind == "spend"]
    for rule in spend:
        points = _spend_points([rule], lines)
        result.rows.append(PreviewRow(rule.name, points, rule, str(rule.id),
                                      _("%(points)s for every %(amount)s",
                                        points=format_number(rule.points),
                                        amount=format_money(rule.per_amount))))
    base = sum(row.points for row in result.rows)
    for rule in rules:
        if rule.kind == "category":
            points = _multiplied(_spend_points(spend, [(c, r) for c, r in lines
                                                       if c == rule.category_id]),
                                 rule.multiplier_bp)
            detail = _times(rule.multiplier_bp)
        elif rule.kind == "window":
            points = _multiplied(_spend_points(spend, [(c, r) for c, r in lines
                                                       if rule.category_id is None
                                                       or c == rule.category_id]),
                                 rule.multiplier_bp)
            detail = _times(rule.multiplier_bp)
        elif rule.kind == "first_purchase" and first:
            points, detail = rule.points, _("first purchase")
        elif (rule.kind == "referral" and first and member is not None
              and member.referred_by_id is not None):
            points, detail = rule.points, _("referred by a member")
        else:
            continue
        result.rows.append(PreviewRow(rule.name, points, rule, str(rule.id), detail))
    if tier is not None and tier.multiplier_bp > BP and base:
        result.rows.append(PreviewRow(
            _("Tier %(name)s", name=tier_name(tier)), _multiplied(base, tier.multiplier_bp),
            None, "tier", _times(tier.multiplier_bp)))
    for row in result.rows:
        _cap(row, member, day)
    result.rows = [row for row in result.rows if row.points > 0 or row.capped]
    return result


def tier_name(tier) -> str:
    from flask_babel import get_locale

    locale = str(get_locale() or "fa")
    return (tier.name_en if locale.startswith("en") else tier.name_fa) or tier.code


# --- earning ---------------------------------------------------------------------------------

def earn_for_purchase(member: Member, *, amount: int, reference: str, key: str,
                      lines=None, by=None, first: bool | None = None,
                      day: date | None = None) -> list[Entry]:
    """Write what a purchase earns: one ``earn`` entry per rule (``<key>:<rule id>``), the
    tier's extra (``<key>:tier``); the referrer's bonus on a referred member's first purchase.
    Runs again safely (the keys); the caller commits."""
    if member.status != "active":
        return []
    day = day or ledger.today()
    if first is None:
        first = _is_first(member, reference)
    result = preview(amount, member=member, lines=lines, day=day, first=first,
                     reference=reference)
    entries = []
    amount_recorded = False
    document = reference_label(reference)
    for row in result.rows:
        if row.points <= 0:
            continue
        if row.rule is not None and row.rule.kind == "first_purchase":
            entry_key = f"earn:first_purchase:{member.id}"
        elif row.rule is not None and row.rule.kind == "referral":
            entry_key = f"earn:referral:{member.id}"
        else:
            entry_key = f"{key}:{row.key_part}"
        entry = ledger.earn(member, row.points, reason=_("%(rule)s — %(document)s",
                                                         rule=row.name, document=document),
                            reference=reference, key=entry_key,
                            rule_id=row.rule.id if row.rule is not None else None,
                            amount=0 if amount_recorded else amount, by=by)
        amount_recorded = True
        entries.append(entry)
        if row.rule is not None and row.rule.kind == "referral":
            _referrer_bonus(member, row.rule, by=by)
    if entries:
        _after_earning(member, entries)
    return entries


def _referrer_bonus(member: Member, rule: Rule, *, by=None) -> Entry | None:
    referrer = db.session.get(Member, member.referred_by_id) if member.referred_by_id else None
    if referrer is None or referrer.status != "active" or not rule.points:
        return None
    entry = ledger.earn(referrer, rule.points,
                        reason=_("%(rule)s: a referred member's first purchase", rule=rule.name),
                        reference=f"loyalty.referral:{member.id}", rule_id=rule.id,
                        key=f"earn:referral:{member.id}:referrer", by=by)
    _after_earning(referrer, [entry])
    return entry


def _after_earning(member: Member, entries: list[Entry]) -> None:
    from modules.loyalty import notify, tiers

    points_earned = getattr(notify, "points_earned", None)
    if points_earned is not None:
        points_earned(member, entries)
    tiers.evaluate(member)


# --- invoices ---------------------------------------------------------------------------------

def invoice_lines(invoice) -> list[tuple[int | None, int]]:
    from modules.sales.services import line_categories

    return line_categories(invoice)


@module_listener("loyalty")
def on_invoice_posted(sender, invoice=None, kind=None, **kwargs) -> None:
    """A posted invoice earns (enrolling the customer when the club says so); a posted credit
    note takes back its share of what the invoice earned."""
    from modules.loyalty import members

    if invoice is None:
        return
    kind = kind or invoice.kind
    member = members.member_of(invoice.customer_id)
    if kind == "invoice":
        if member is None and ledger.club_settings().auto_enrol:
            member = members.enrol(invoice.customer, via="purchase")
        if member is None or member.status != "active":
            return
        from modules.sales.services import other_posted_invoices

        first = not other_posted_invoices(invoice)
        reference = f"sales.invoice:{invoice.id}"
        earn_for_purchase(member, amount=invoice.total, reference=reference,
                          key=f"earn:{reference}", lines=invoice_lines(invoice), first=first,
                          day=local_date(invoice.posted_at) if invoice.posted_at else None)
    elif kind == "credit_note" and invoice.original_id and member is not None:
        take_back(member, invoice)


def earned_by(member: Member, reference: str) -> tuple[int, int]:
    """(points earned, points already taken back) under ``reference``."""
    rows = dict(db.session.execute(
        select(Entry.kind, func.coalesce(func.sum(Entry.points), 0))
        .where(Entry.member_id == member.id, Entry.reference == reference,
               Entry.kind.in_(("earn", "reverse")))
        .group_by(Entry.kind)).all())
    return int(rows.get("earn", 0)), -int(rows.get("reverse", 0))


def take_back(member: Member, note) -> list[Entry]:
    """The credit note's share (its total over the original's, all notes so far counted) of the
    points the original invoice earned."""
    from modules.sales.services import credited_total

    original = note.original
    reference = f"sales.invoice:{original.id}"
    earned, taken = earned_by(member, reference)
    if earned <= 0 or not original.total:
        return []
    credited = min(credited_total(original.id, exclude_id=note.id) + note.total,
                   original.total)
    due = earned * credited // original.total - taken
    if due <= 0:
        return []
    entries = ledger.reverse_earning(
        member, reference, due, key=f"reverse:sales.invoice:{note.id}",
        reason=reference_label(f"sales.invoice:{note.id}"))
    from modules.loyalty import tiers

    tiers.evaluate(member)
    return entries


# --- birthdays and anniversaries ------------------------------------------------------------

def _same_jalali_day(day: date, today: date) -> bool:
    """``day``'s Jalali month and day fall on ``today`` this year (Esfand 30 on Esfand 29 in a
    common year)."""
    j, t = jdatetime.date.fromgregorian(date=day), jdatetime.date.fromgregorian(date=today)
    if j.month != t.month:
        return False
    if j.day == t.day:
        return True
    last = (today + timedelta(days=1))
    return (j.month == 12 and j.day == 30 and t.day == 29
            and jdatetime.date.fromgregorian(date=last).month == 1)


def occasions(day: date | None = None) -> int:
    """Give birthday and anniversary bonuses due today (once per member per Jalali year);
    one commit per member. Returns the entries written."""
    from core.customers.models import Customer

    day = day or ledger.today()
    rules = [r for r in active_rules(("birthday", "anniversary"))
             if r.points > 0 and _applies(r, day, None, None)]
    if not rules:
        return 0
    year = jdatetime.date.fromgregorian(date=day).year
    rows = db.session.execute(select(Member.id, Member.tier_id, Member.enrolled_at,
                                     Customer.birthday)
                              .join(Customer, Customer.id == Member.customer_id)
                              .where(Member.status == "active").order_by(Member.id)).all()
    db.session.commit()
    count = 0
    for member_id, tier_id, enrolled_at, birthday in rows:
        due = []
        for rule in rules:
            if rule.tier_id is not None and rule.tier_id != tier_id:
                continue
            if rule.kind == "birthday" and birthday and _same_jalali_day(birthday, day):
                due.append(rule)
            elif rule.kind == "anniversary" and enrolled_at is not None:
                since = local_date(enrolled_at)
                if (jdatetime.date.fromgregorian(date=since).year < year
                        and _same_jalali_day(since, day)):
                    due.append(rule)
        if not due:
            continue
        member = db.session.get(Member, member_id)
        entries = []
        try:
            for rule in due:
                row = PreviewRow(rule.name, rule.points, rule, str(rule.id))
                _cap(row, member, day)
                if row.points <= 0:
                    continue
                entry_key = f"earn:{rule.kind}:{member_id}:{year}"
                if db.session.execute(select(Entry.id).where(Entry.key == entry_key)).first():
                    continue
                entries.append(ledger.earn(member, row.points, reason=rule.name,
                                           reference=f"loyalty.{rule.kind}:{year}",
                                           key=entry_key, rule_id=rule.id))
            if entries:
                _after_earning(member, entries)
            db.session.commit()
            count += len(entries)
        except ledger.LedgerError:
            db.session.rollback()
            log.exception("occasion bonus for member %s failed", member_id)
    return count


def run_occasions() -> int:
    """The periodic job: today's birthdays and anniversaries."""
    return occasions()


def register(app) -> None:
    """Listen to posted invoices; the daily-ish job for birthdays and anniversaries."""
    from core.jobs import periodic

    invoice_posted.connect(on_invoice_posted, weak=False)
    periodic("loyalty.occasions", 3600, run_occasions)
