"""The chart of accounts, its mapping to what the CRM posts, fiscal years and the journal.

A journal entry is written once, balanced, in the same transaction as the event that caused
it, and never changes afterwards (``modules.accounting_link.journal`` refuses edits with a
``before_flush`` guard); a correction is a new entry that reverses the old one line by line.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

ACCOUNT_KINDS = ("asset", "liability", "equity", "income", "expense")

# What the CRM posts to, and to which account each role goes (``AccountMapping.role``).
# ``revenue`` is the default revenue account; ``revenue:<category id>`` overrides it for the
# products of one sales category. ``bank:<method>`` is per payment method (cash, card,
# transfer); cheques go to ``cheques_in_hand`` until they clear into ``bank:cheque``.
ROLES = ("receivables", "revenue", "vat_payable", "discounts", "bank:cash", "bank:card",
         "bank:transfer", "bank:cheque", "cheques_in_hand", "points_liability",
         "points_expense", "points_breakage")

SOURCE_KINDS = ("invoice", "credit_note", "payment", "cheque", "points_issued",
                "points_redeemed", "points_expired", "points_reversed", "reversal", "manual")


class FiscalYear(db.Model):
    """A Jalali fiscal year: the period entries are numbered in, and can be closed."""

    __tablename__ = "accounting_link_fiscal_year"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)  # Jalali year it starts in
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class Account(db.Model):
    """An account of the company's chart of accounts (as the accounting package names it)."""

    __tablename__ = "accounting_link_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))  # one of ACCOUNT_KINDS
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AccountMapping(db.Model):
    """Which account one posting role goes to (in one fiscal year, or in all when null)."""

    __tablename__ = "accounting_link_mapping"
    __table_args__ = (UniqueConstraint("role", "fiscal_year",
                                       name="uq_accounting_link_mapping_role_year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(60), index=True)
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_link_account.id"))

    account: Mapped[Account] = relationship(lazy="joined")


class JournalEntry(db.Model):
    """One balanced journal entry; immutable once written."""

    __tablename__ = "accounting_link_entry"
    __table_args__ = (
        UniqueConstraint("fiscal_year", "number", name="uq_accounting_link_entry_number"),
        Index("ix_accounting_link_entry_source", "source_type", "source_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)
    number: Mapped[int] = mapped_column(Integer)  # gapless within the fiscal year
    entry_date: Mapped[date] = mapped_column(Date, index=True)  # Tehran date of the event
    kind: Mapped[str] = mapped_column(String(20), index=True)  # one of SOURCE_KINDS
    # The document it comes from: ("sales.invoice", 12), ("sales.payment", 3),
    # ("loyalty.entry", 40) ...; ``key`` makes each event post once.
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(60), default="")  # e.g. the invoice number
    key: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_customer.id", ondelete="SET NULL"), index=True)
    total: Mapped[int] = mapped_column(BigInteger, default=0)  # sum of debits (= of credits)
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounting_link_entry.id"), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    lines: Mapped[list["JournalLine"]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="JournalLine.position",
        lazy="selectin")
    reverses = relationship("JournalEntry", remote_side=[id], foreign_keys=[reverses_id])

    @property
    def reference_label(self) -> str:
        return f"{self.fiscal_year}-{self.number}"


class JournalLine(db.Model):
    """One debit or credit of an entry (exactly one of the two is above zero)."""

    __tablename__ = "accounting_link_line"
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("accounting_link_entry.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounting_link_account.id"),
                                            index=True)
    role: Mapped[str] = mapped_column(String(60), default="")
    debit: Mapped[int] = mapped_column(BigInteger, default=0)
    credit: Mapped[int] = mapped_column(BigInteger, default=0)
    memo: Mapped[str] = mapped_column(Text, default="")

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship(lazy="joined")


class EntrySequence(db.Model):
    """The last entry number of a fiscal year (bumped under a row lock)."""

    __tablename__ = "accounting_link_sequence"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, unique=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
