"""Customer business rules: create, update, validate, find duplicates, add notes.

Functions take plain arguments and never touch ``request``; the caller commits. Validation
collects every problem and raises one ``CustomerError`` whose ``errors`` map a field name to
a message that names the reason.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, union

from core.customers.custom_fields import clean_custom
from core.customers.models import (
    KINDS,
    Address,
    Affiliation,
    ContactPoint,
    Customer,
    Note,
    Tag,
)
from core.events import customer_created, customer_updated, emit
from core.extensions import db
from core.validators import (
    canonical_mobile,
    check_economic_code,
    check_legal_national_id,
    check_national_code,
    check_postal_code,
)

FIELDS = {
    "kind", "display_name", "first_name", "last_name", "legal_name", "national_code",
    "national_id", "economic_code", "birthday", "anniversary", "source", "owner_id", "team_id",
    "consent_email", "consent_sms", "mobiles", "phones", "emails", "tags", "custom", "address",
}
_TEXT = ("display_name", "first_name", "last_name", "legal_name", "source")


class CustomerError(ValueError):
    """The customer's data is invalid; ``errors`` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def create_customer(*, by=None, **fields) -> Customer:
    """A new customer from plain values; owner defaults to ``by`` (a User) and its team."""
    fields.setdefault("kind", "person")
    if by is not None:
        fields.setdefault("owner_id", by.id)
        fields.setdefault("team_id", by.team_id)
    customer = Customer(kind="person", display_name="", custom={})
    _apply(customer, fields)
    db.session.add(customer)
    db.session.flush()
    emit(customer_created, customer=customer)
    return customer


def update_customer(customer: Customer, **fields) -> Customer:
    """Change the given fields of ``customer`` (fields not passed stay as they are)."""
    _apply(customer, fields)
    db.session.flush()
    emit(customer_updated, customer=customer, fields=sorted(fields))
    return customer


def _check_owner(values: dict[str, Any], errors: dict[str, str]) -> None:
    """An owner or team given by id must exist (the API takes ids as they come)."""
    from core.auth.models import Team, User

    for name, model, message in (
            ("owner_id", User, _("There is no user with this id.")),
            ("team_id", Team, _("There is no team with this id."))):
        ident = values.get(name)
        if ident is not None and (not 0 < ident <= 2**31 - 1 or db.session.get(model, ident)
                                  is None):
            errors[name] = message


def _apply(customer: Customer, fields: dict[str, Any]) -> None:
    unknown = set(fields) - FIELDS
    if unknown:
        raise TypeError(f"unknown customer fields: {', '.join(sorted(unknown))}")
    errors: dict[str, str] = {}
    values = {k: (v or "").strip() if k in _TEXT else v for k, v in fields.items()}
    kind = values.get("kind", customer.kind)
    if kind not in KINDS:
        errors["kind"] = _("A customer is a person or an organisation.")
    for name, check in (("national_code", check_national_code),
                        ("national_id", check_legal_national_id),
                        ("economic_code", check_economic_code)):
        if name in values:
            values[name] = _checked(values[name], check, name, errors)
    for name in ("birthday", "anniversary"):
        if values.get(name) is not None and not isinstance(values[name], date):
            errors[name] = _("This is not a date.")
    _check_owner(values, errors)
    contacts = {}
    for kind_, name, clean in (("mobile", "mobiles", canonical_mobile),
                               ("phone", "phones", _clean_phone),
                               ("email", "emails", _clean_email)):
        if name in values:
            contacts[kind_] = _clean_list(values.pop(name), clean, name, errors)
    if "custom" in values:
        custom, custom_errors = clean_custom(values["custom"] or {}, customer.custom or {})
        values["custom"] = custom
        errors.update(custom_errors)
    address = values.pop("address", None)
    if address is not None and address.get("postal_code"):
        address = dict(address)
        address["postal_code"] = _checked(address["postal_code"], check_postal_code,
                                          "postal_code", errors)
    tags = values.pop("tags", None)
    merged = {c: values.get(c, getattr(customer, c)) for c in _TEXT}
    if kind == "person" and not (merged["first_name"] or merged["last_name"]
                                 or merged["display_name"]):
        errors["last_name"] = _("Give the person's first or last name.")
    if kind == "organisation" and not (merged["legal_name"] or merged["display_name"]):
        errors["legal_name"] = _("Give the organisation's legal name.")
    if errors:
        raise CustomerError(errors)
    derived = customer.display_name in ("", _display_name(customer))
    for name, value in values.items():
        setattr(customer, name, value)
    if not customer.display_name or ("display_name" not in values and derived):
        customer.display_name = _display_name(customer)  # follows the names unless typed
    for kind_, items in contacts.items():
        _replace_contacts(customer, kind_, items)
    if tags is not None:
        customer.tags = tags_named(tags)
    if address is not None:
        _set_address(customer, address)


def _checked(value, check, name: str, errors: dict) -> str | None:
    if value in (None, ""):
        return None
    try:
        return check(value)
    except ValueError as exc:
        errors[name] = str(exc)
        return None


def _clean_phone(value: str) -> str:
    from core.i18n import to_latin_digits

    text = "".join(ch for ch in to_latin_digits(value) if ch.isdigit() or ch == "+")
    if len(text.lstrip("+")) < 5:
        raise ValueError(_("%(value)s is not a phone number", value=value))
    return text


def _clean_email(value: str) -> str:
    text = value.strip().lower()
    local, _at, domain = text.partition("@")
    if not local or "." not in domain or " " in text:
        raise ValueError(_("%(value)s is not an email address", value=value))
    return text


def _clean_list(items, clean, name: str, errors: dict) -> list[str]:
    if isinstance(items, str):
        items = items.splitlines()
    found: list[str] = []
    for item in items or ():
        if not str(item).strip():
            continue
        try:
            value = clean(str(item).strip())
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        if value not in found:
            found.append(value)
    return found


def _display_name(customer: Customer) -> str:
    if customer.kind == "organisation":
        return customer.legal_name
    return " ".join(p for p in (customer.first_name, customer.last_name) if p)


def _replace_contacts(customer: Customer, kind: str, values: list[str]) -> None:
    existing = {c.value: c for c in customer.contacts if c.kind == kind}
    keep = []
    for i, value in enumerate(values):
        contact = existing.pop(value, None) or ContactPoint(kind=kind, value=value)
        contact.primary = i == 0
        keep.append(contact)
    others = [c for c in customer.contacts if c.kind != kind]
    customer.contacts = others + keep


def _set_address(customer: Customer, fields: dict) -> None:
    values = {k: (fields.get(k) or "") for k in ("province", "city", "line")}
    values["postal_code"] = fields.get("postal_code") or None
    if not any(values.values()):
        customer.addresses = []
        return
    address = customer.addresses[0] if customer.addresses else Address()
    for key, value in values.items():
        setattr(address, key, value)
    if not customer.addresses:
        customer.addresses.append(address)


def tags_named(names: Iterable[str] | str) -> list[Tag]:
    """The tags with these names (comma-separated text or a list), created when new."""
    if isinstance(names, str):
        names = names.replace("،", ",").split(",")
    wanted = []
    for name in names:
        name = " ".join(str(name).split())
        if name and name not in wanted:
            wanted.append(name)
    found = {t.name: t for t in db.session.execute(
        select(Tag).where(Tag.name.in_(wanted))).scalars()} if wanted else {}
    tags = []
    for name in wanted:
        tag = found.get(name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    return tags


def find_duplicates_for(*, mobile: str | None = None, email: str | None = None,
                        national_code: str | None = None,
                        exclude_id: int | None = None, mobiles: Sequence[str] = (),
                        emails: Sequence[str] = ()) -> list[Customer]:
    """Customers with the same canonical mobile, email or national code (unscoped).

    ``mobiles`` and ``emails`` add more values to look for, all in one query."""
    contact_values = []
    for value in ([mobile] if mobile else []) + list(mobiles):
        try:
            contact_values.append(canonical_mobile(value))
        except ValueError:
            pass
    contact_values += [value.strip().lower() for value in ([email] if email else []) + list(emails)
                       if value]
    # The ids each value finds, as a union: every part uses its own index (an OR of the two
    # conditions makes PostgreSQL scan every customer).
    found_ids = []
    if contact_values:
        found_ids.append(
            select(ContactPoint.customer_id).where(ContactPoint.value.in_(contact_values)))
    if national_code:
        try:
            found_ids.append(select(Customer.id).where(
                Customer.national_code == check_national_code(national_code)))
        except ValueError:
            pass
    if not found_ids:
        return []
    stmt = select(Customer).where(Customer.id.in_(union(*found_ids) if len(found_ids) > 1
                                                  else found_ids[0])).order_by(Customer.id)
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    return list(db.session.execute(stmt).unique().scalars())


def add_note(customer: Customer, body: str, *, by=None, kind: str = "note") -> Note:
    """A note (or, with ``kind="call"``, a logged call) on the customer's timeline."""
    body = (body or "").strip()
    if not body:
        raise CustomerError({"body": _("Write something in the note.")})
    if kind not in ("note", "call"):
        raise CustomerError({"kind": _("A note is a note or a call.")})
    note = Note(customer_id=customer.id, body=body, author_id=getattr(by, "id", None),
                kind=kind)
    db.session.add(note)
    db.session.flush()
    return note


def affiliate(person: Customer, organisation: Customer, role: str = "") -> Affiliation:
    """Record that ``person`` works at ``organisation`` (in ``role``); updates the role if so."""
    if person.kind != "person" or organisation.kind != "organisation":
        raise CustomerError({"organisation": _("A person can work at an organisation, "
                                               "not the other way round.")})
    link = db.session.execute(select(Affiliation).where(
        Affiliation.person_id == person.id,
        Affiliation.organisation_id == organisation.id)).scalar()
    if link is None:
        link = Affiliation(person_id=person.id, organisation_id=organisation.id)
        db.session.add(link)
    link.role = (role or "").strip()
    db.session.flush()
    return link


def affiliations_of(customer: Customer) -> list[tuple[str, Customer]]:
    """(role, other side) for each organisation a person works at, or person at an org."""
    if customer.kind == "organisation":
        column, other = Affiliation.organisation_id, Affiliation.person
    else:
        column, other = Affiliation.person_id, Affiliation.organisation
    links = db.session.execute(select(Affiliation).where(column == customer.id)
                               .order_by(Affiliation.id)).scalars()
    return [(link.role, getattr(link, other.key)) for link in links]
