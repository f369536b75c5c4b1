"""Write balanced journal entries; never change them (a correction is a reversal).

``post_entry(...)`` is the only way an entry is written. It runs inside the caller's
transaction (the event that caused it), so the entry exists exactly when the event commits:

    post_entry(kind="invoice", source_type="sales.invoice", source_id=invoice.id,
               key=f"sales.invoice:{invoice.id}", occurred_at=invoice.posted_at,
               legs=[Leg("receivables", debit=1100), Leg("revenue", credit=1000),
                     Leg("vat_payable", credit=100)], customer_id=invoice.customer_id)

- ``key`` makes it idempotent: posting the same key again returns the entry already written.
- Legs name *roles* (``models.journal.ROLES``); the mapping turns each into an account of the
  fiscal year (``revenue:<category id>`` falls back to ``revenue``, ``bank:<method>`` to
  ``bank:transfer``). Zero legs are dropped; what is left must balance, or ``JournalError``.
- Numbers are gapless per Jalali fiscal year.
- A fiscal year that is closed (``close_fiscal_year``) takes no more entries: an event dated
  in it is posted on the first day of the next open year, and the description says so.
- ``ENTRY_POSTED`` callbacks (the delivery connectors) run right after, in the same
  transaction, so each delivery is queued in the outbox with the entry.

Until the accountant maps the chart (``/accounting/mapping``), ``ensure_default_chart()``
supplies a small standard chart so nothing is ever left unposted.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session

from core.database import get_setting, lock, utcnow
from core.extensions import db
from core.i18n import fiscal_year_of, fiscal_year_range, jdate, local_date
from modules.accounting_link.models.journal import (
    Account,
    AccountMapping,
    EntrySequence,
    FiscalYear,
    JournalEntry,
    JournalLine,
)

ENTRY_POSTED: list[Callable[[JournalEntry], None]] = []

# role → (code, Persian name, kind): the standard chart used until the accountant maps theirs.
DEFAULT_CHART = {
    "bank:cash": ("1101", "صندوق", "asset"),
    "bank:card": ("1102", "بانک - کارت‌خوان", "asset"),
    "bank:transfer": ("1103", "بانک - حساب جاری", "asset"),
    "bank:cheque": ("1103", "بانک - حساب جاری", "asset"),
    "receivables": ("1104", "حساب‌های دریافتنی تجاری", "asset"),
    "cheques_in_hand": ("1105", "اسناد دریافتنی", "asset"),
    "vat_payable": ("2105", "مالیات بر ارزش افزوده پرداختنی", "liability"),
    "points_liability": ("2110", "تعهد امتیازهای باشگاه مشتریان", "liability"),
    "revenue": ("4101", "فروش کالا و خدمات", "income"),
    "discounts": ("4102", "تخفیفات فروش", "income"),
    "points_breakage": ("4105", "درآمد امتیازهای منقضی‌شده", "income"),
    "points_expense": ("6105", "هزینه باشگاه مشتریان", "expense"),
}


class JournalError(Exception):
    """An entry that cannot be written (unbalanced, empty, unmapped)."""


class EntryImmutable(JournalError):
    def __init__(self, entry_id):
        super().__init__(_("Journal entry %(id)s is posted and cannot change; reverse it "
                           "instead.", id=entry_id))


@dataclass(frozen=True)
class Leg:
    """One side of an entry: a role, a debit or a credit (rials), a memo."""

    role: str
    debit: int = 0
    credit: int = 0
    memo: str = ""


class FiscalYearClosed(JournalError):
    """An entry dated in a closed fiscal year."""


def deployment_language() -> str:
    """The language entries are described in (the deployment's display language)."""
    languages = current_app.config.get("CRM_LANGUAGES", ("fa", "en"))
    chosen = get_setting("display.language")
    return chosen if chosen in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def in_deployment_language():
    """``with in_deployment_language(): ...`` — texts stored on entries are in one language."""
    return force_locale(deployment_language())


# --- fiscal years --------------------------------------------------------------------------

def closed_years() -> set[int]:
    return set(db.session.execute(
        select(FiscalYear.year).where(FiscalYear.closed.is_(True))).scalars())


def create_fiscal_year(year: int) -> FiscalYear:
    """The fiscal year ``year`` (Jalali, from the fiscal start month setting); idempotent."""
    row = db.session.execute(select(FiscalYear).where(FiscalYear.year == year)).scalar()
    if row is not None:
        return row
    if not 1300 <= year <= 1600:
        raise JournalError(_("%(year)s is not a Jalali year.", year=year))
    starts_on, next_start = fiscal_year_range(year)
    row = FiscalYear(year=year, starts_on=starts_on, ends_on=next_start - timedelta(days=1),
                     closed=False)
    db.session.add(row)
    db.session.flush()
    return row


def close_fiscal_year(year: int) -> FiscalYear:
    """Close ``year``: entries dated in it are refused from now on (posted in the next year)."""
    row = create_fiscal_year(year)
    row.closed = True
    db.session.flush()
    return row


def posting_day(day: date) -> tuple[date, int, int | None]:
    """(the day to post on, its fiscal year, the closed year it moved out of or None)."""
    closed = closed_years()
    fiscal_year = fiscal_year_of(day)
    if fiscal_year not in closed:
        return day, fiscal_year, None
    moved_from = fiscal_year
    while fiscal_year in closed:
        day = fiscal_year_range(fiscal_year)[1]
        fiscal_year = fiscal_year_of(day)
    return day, fiscal_year, moved_from


# --- the chart -----------------------------------------------------------------------------

def ensure_default_chart() -> None:
    """Create the standard accounts and map every unmapped role to them (idempotent)."""
    mapped = set(db.session.execute(
        select(AccountMapping.role).where(AccountMapping.fiscal_year.is_(None))).scalars())
    missing = [role for role in DEFAULT_CHART if role not in mapped]
    if not missing:
        return
    by_code = {a.code: a for a in db.session.execute(select(Account)).scalars()}
    for role in missing:
        code, name, kind = DEFAULT_CHART[role]
        account = by_code.get(code)
        if account is None:
            account = by_code[code] = Account(code=code, name=name, kind=kind)
            db.session.add(account)
            db.session.flush()
        db.session.add(AccountMapping(role=role, fiscal_year=None, account_id=account.id))
    db.session.flush()


def _fallbacks(role: str) -> list[str]:
    roles = [role]
    if role.startswith("revenue:"):
        roles.append("revenue")
    elif role.startswith("bank:") and role != "bank:transfer":
        roles.append("bank:transfer")
    return roles


def _mapped(role: str, fiscal_year: int) -> Account | None:
    rows = db.session.execute(
        select(AccountMapping).where(AccountMapping.role.in_(_fallbacks(role)))).scalars().all()
    for candidate in _fallbacks(role):
        for year in (fiscal_year, None):
            for row in rows:
                if row.role == candidate and row.fiscal_year == year:
                    return row.account
    return None


def account_for(role: str, fiscal_year: int) -> Account:
    """The account ``role`` posts to in ``fiscal_year``: the role's own mapping (that year's,
    then every year's), then its general role's (``revenue``, ``bank:transfer``), then the
    standard chart's."""
    account = _mapped(role, fiscal_year)
    if account is None:
        ensure_default_chart()  # maps every standard role that is still unmapped
        account = _mapped(role, fiscal_year)
    if account is None:
        raise JournalError(_("No account is mapped for %(role)s.", role=role))
    return account


def _next_number(fiscal_year: int) -> int:
    table = EntrySequence.__table__
    bump = (update(table).where(table.c.fiscal_year == fiscal_year)
            .values(last_number=table.c.last_number + 1).returning(table.c.last_number))
    number = db.session.execute(bump).scalar()
    if number is None:
        if db.session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(table).values(fiscal_year=fiscal_year, last_number=0)
                           .on_conflict_do_nothing())
        number = db.session.execute(bump).scalar()
    return number


def by_key(key: str) -> JournalEntry | None:
    return db.session.execute(select(JournalEntry).where(JournalEntry.key == key)).scalar()


def post_entry(*, kind: str, source_type: str, source_id: int | None, key: str,
               legs: list[Leg], occurred_at: datetime | date | None = None,
               reference: str = "",
               description: str = "", customer_id: int | None = None, by=None,
               reverses: JournalEntry | None = None) -> JournalEntry | None:
    """Write one balanced entry in the current transaction; see the module docstring.

    ``occurred_at`` is a UTC datetime or a (Tehran) date. Returns the entry (the existing one
    for a key already posted), or None when every leg is zero (nothing to post).
    """
    existing = by_key(key)
    if existing is not None:
        return existing
    legs = [leg for leg in legs if leg.debit or leg.credit]
    if not legs:
        return None
    for leg in legs:
        if leg.debit < 0 or leg.credit < 0 or (leg.debit and leg.credit):
            raise JournalError(_("Each line is a debit or a credit above zero."))
    debits, credits = sum(leg.debit for leg in legs), sum(leg.credit for leg in legs)
    if debits != credits:
        raise JournalError(_("The entry does not balance: debits %(debits)s, credits "
                             "%(credits)s.", debits=debits, credits=credits))
    occurred_at = occurred_at or utcnow()
    day, fiscal_year, moved_from = posting_day(local_date(occurred_at))
    if moved_from is not None:
        with in_deployment_language():
            note = _("Dated %(day)s in closed fiscal year %(year)s; posted on the first day of "
                     "%(next)s.", day=jdate(local_date(occurred_at)), year=moved_from,
                     next=fiscal_year)
        description = f"{description} ({note})" if description else note
    lock("accounting_link.journal")  # one numbering at a time, on SQLite and PostgreSQL
    existing = by_key(key)  # a racing transaction may have posted it while we waited
    if existing is not None:
        return existing
    entry = JournalEntry(
        fiscal_year=fiscal_year, number=_next_number(fiscal_year), entry_date=day, kind=kind,
        source_type=source_type, source_id=source_id, reference=reference[:60], key=key,
        description=description[:300], customer_id=customer_id, total=debits,
        reverses_id=getattr(reverses, "id", None), created_by_id=getattr(by, "id", None),
        created_at=utcnow())
    entry.lines = [JournalLine(position=i, account_id=account_for(leg.role, fiscal_year).id,
                               role=leg.role, debit=leg.debit, credit=leg.credit,
                               memo=leg.memo) for i, leg in enumerate(legs)]
    db.session.add(entry)
    db.session.flush()
    for callback in ENTRY_POSTED:
        callback(entry)
    return entry


def reverse_entry(original: JournalEntry, *, reason: str = "", by=None,
                  occurred_at: datetime | None = None) -> JournalEntry:
    """A new entry with every line of ``original`` on the other side; ``original`` stays."""
    if original.reverses_id is not None:
        raise JournalError(_("A reversal is not reversed again; post a new entry instead."))
    if original.id is None or inspect(original).pending:
        raise JournalError(_("Only a written entry can be reversed."))
    legs = [Leg(line.role, debit=line.credit, credit=line.debit, memo=line.memo)
            for line in original.lines]
    return post_entry(kind="reversal", source_type=original.source_type,
                      source_id=original.source_id, key=f"reversal:{original.key}"[:120],
                      legs=legs, occurred_at=occurred_at, reference=original.reference,
                      description=reason or _("Reversal of entry %(ref)s",
                                              ref=original.reference_label),
                      customer_id=original.customer_id, by=by, reverses=original)


# --- the ORM guard -------------------------------------------------------------------------

def guard_entries(session: Session, _flush_context, _instances) -> None:
    """before_flush: a written entry or line never changes and is never deleted; a new entry
    balances and is not dated in a closed fiscal year; no line joins a written entry."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, JournalEntry | JournalLine) and inspect(obj).persistent:
            if obj in session.deleted or session.is_modified(obj, include_collections=False):
                entry_id = obj.id if isinstance(obj, JournalEntry) else obj.entry_id
                raise EntryImmutable(entry_id)
    new_entries = [obj for obj in session.new if isinstance(obj, JournalEntry)]
    for obj in session.new:
        if isinstance(obj, JournalLine):
            parent = obj.entry
            if parent is None and obj.entry_id is not None:
                with session.no_autoflush:
                    parent = session.get(JournalEntry, obj.entry_id)
            if parent is not None and inspect(parent).persistent:
                raise EntryImmutable(parent.id)
    if not new_entries:
        return
    with session.no_autoflush:
        closed = set(session.execute(
            select(FiscalYear.year).where(FiscalYear.closed.is_(True))).scalars())
    for entry in new_entries:
        debits = sum(line.debit or 0 for line in entry.lines)
        credits = sum(line.credit or 0 for line in entry.lines)
        if not entry.lines or debits != credits or debits != entry.total:
            raise JournalError(_("The entry does not balance: debits %(debits)s, credits "
                                 "%(credits)s.", debits=debits, credits=credits))
        if entry.fiscal_year in closed:
            raise FiscalYearClosed(_("Fiscal year %(year)s is closed; it takes no more "
                                     "entries.", year=entry.fiscal_year))


def install_guard() -> None:
    if not event.contains(Session, "before_flush", guard_entries):
        event.listen(Session, "before_flush", guard_entries)


# --- reading the journal -------------------------------------------------------------------

@dataclass
class BalanceRow:
    """One account of a trial balance; opening and closing are net debit (credit < 0)."""

    account: Account
    opening: int = 0
    debits: int = 0
    credits: int = 0

    @property
    def closing(self) -> int:
        return self.opening + self.debits - self.credits


def trial_balance(start: date, end: date) -> tuple[list[BalanceRow], BalanceRow]:
    """Per account: the net of every line dated before ``start`` (opening), the debits and
    credits dated ``start``..``end`` (inclusive), and the closing net; and the totals row.

    Openings carry over fiscal years for every account (the link keeps no closing entries),
    so the openings and the closings each sum to zero, as the debits equal the credits.
    """
    from sqlalchemy import case, func

    before = JournalEntry.entry_date < start
    within = JournalEntry.entry_date.between(start, end)
    rows = db.session.execute(
        select(JournalLine.account_id,
               func.coalesce(func.sum(case((before, JournalLine.debit - JournalLine.credit),
                                           else_=0)), 0),
               func.coalesce(func.sum(case((within, JournalLine.debit), else_=0)), 0),
               func.coalesce(func.sum(case((within, JournalLine.credit), else_=0)), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.entry_date <= end)
        .group_by(JournalLine.account_id)).all()
    accounts = {a.id: a for a in db.session.execute(select(Account)).scalars()}
    result = [BalanceRow(accounts[account_id], int(opening), int(debits), int(credits))
              for account_id, opening, debits, credits in rows
              if opening or debits or credits]
    result.sort(key=lambda row: (row.account.code, row.account.id))
    totals = BalanceRow(Account(code="", name="", kind=""),
                        sum(r.opening for r in result), sum(r.debits for r in result),
                        sum(r.credits for r in result))
    return result, totals


def reversal_of(entry: JournalEntry) -> JournalEntry | None:
    """The entry that reverses ``entry``, if any."""
    return db.session.execute(
        select(JournalEntry).where(JournalEntry.reverses_id == entry.id)).scalar()
