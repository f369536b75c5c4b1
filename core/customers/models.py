"""Customers: people and organisations, their contact points, addresses, tags and notes."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.database import utcnow
from core.extensions import db

KINDS = ("person", "organisation")
CONTACT_KINDS = ("mobile", "phone", "email")
FIELD_TYPES = ("text", "number", "date", "choice", "bool")

customer_tags = Table(
    "core_customer_tag", db.metadata,
    Column("customer_id", ForeignKey("core_customer.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("core_tag.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    """A label customers can carry ("VIP", "Isfahan fair 1403")."""

    __tablename__ = "core_tag"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)


def trigram_ops_visible(_ddl, _target, bind, **_kw) -> bool:
    """Whether pg_trgm's operator class is on the search path (always assumed offline)."""
    if bind is None:
        return True
    return bind.execute(text("SELECT 1 FROM pg_opclass WHERE opcname = 'gin_trgm_ops' "
                             "AND pg_opclass_is_visible(oid)")).first() is not None


class Customer(db.Model):
    """A person or an organisation the company deals with: the record every module shares."""

    __tablename__ = "core_customer"
    __table_args__ = (
        # Search is LIKE '%word%' on the search key: on PostgreSQL a trigram GIN index answers
        # it without reading every row. Needs the pg_trgm extension (CREATE EXTENSION pg_trgm,
        # in the migration); left out where it is not installed, and on SQLite.
        Index("ix_core_customer_search_key_trgm", "search_key", postgresql_using="gin",
              postgresql_ops={"search_key": "gin_trgm_ops"}).ddl_if(
                  dialect="postgresql", callable_=trigram_ops_visible),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default="person")
    display_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    national_code: Mapped[str | None] = mapped_column(String(10), index=True)
    national_id: Mapped[str | None] = mapped_column(String(11), index=True)
    economic_code: Mapped[str | None] = mapped_column(String(14))
    birthday: Mapped[date | None] = mapped_column(Date)
    anniversary: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(80), default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("core_team.id"), index=True)
    consent_email: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    custom: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    search_key: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")
    team = relationship("Team", foreign_keys=[team_id])
    contacts: Mapped[list["ContactPoint"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan",
        order_by="(ContactPoint.kind, ContactPoint.primary.desc(), ContactPoint.id)")
    addresses: Mapped[list["Address"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id")
    tags: Mapped[list[Tag]] = relationship(secondary=customer_tags, order_by=Tag.name)

    def values(self, kind: str) -> list[str]:
        """The contact values of one kind ("mobile", "phone", "email"), primary first."""
        return [c.value for c in self.contacts if c.kind == kind]

    @property
    def mobile(self) -> str | None:
        return next(iter(self.values("mobile")), None)

    @property
    def email(self) -> str | None:
        return next(iter(self.values("email")), None)


class ContactPoint(db.Model):
    """One way to reach a customer: a mobile (+989...), a phone or an email (lowercase)."""

    __tablename__ = "core_contact_point"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(200), index=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Address(db.Model):
    """A postal address of a customer."""

    __tablename__ = "core_address"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    province: Mapped[str] = mapped_column(String(80), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    line: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str | None] = mapped_column(String(10))

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class Affiliation(db.Model):
    """A person who works at an organisation, in a role ("purchasing manager")."""

    __tablename__ = "core_affiliation"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(120), default="")

    person: Mapped[Customer] = relationship(foreign_keys=[person_id])
    organisation: Mapped[Customer] = relationship(foreign_keys=[organisation_id])


class CustomField(db.Model):
    """An admin-defined customer field; values live in ``Customer.custom[name]``."""

    __tablename__ = "core_custom_field"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(10), default="text")
    choices: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Note(db.Model):
    """A free-text note or a logged phone call about a customer, shown on its timeline."""

    __tablename__ = "core_customer_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="note")  # note | call
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)

    author = relationship("User", lazy="joined")


class Task(db.Model):
    """Something to do for a customer, by someone, by a date (shown in "my day")."""

    __tablename__ = "core_customer_task"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("core_customer.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    remind_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    customer: Mapped[Customer] = relationship()
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
