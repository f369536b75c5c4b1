"""Custom field administration: add, change and remove the admin-defined customer fields.

A field's name is the key of its values in ``Customer.custom`` and in filters
(``custom.<name>``), so it is a slug and never changes; nor does its type. Removing a field
removes its values from every customer in one statement.
"""

import re

from flask_babel import gettext as _
from sqlalchemy import JSON, cast, func, select, update
from sqlalchemy.dialects.postgresql import JSONB

from core import audit
from core.customers.custom_fields import define_field
from core.customers.models import FIELD_TYPES, Customer, CustomField
from core.extensions import db

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,59}")


class FieldError(ValueError):
    """A definition that cannot be saved; ``errors`` maps form field names to reasons."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _clean_choices(kind: str, choices) -> list[str]:
    seen: list[str] = []
    for choice in choices or ():
        choice = " ".join(str(choice).split())
        if choice and choice not in seen:
            seen.append(choice)
    if kind == "choice" and not seen:
        raise FieldError({"choices": _("A choice field needs at least one choice.")})
    return seen if kind == "choice" else []


def _clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise FieldError({"label": _("Give the field a label.")})
    if len(label) > 120:
        raise FieldError({"label": _("A label is at most %(n)d characters.", n=120)})
    return label


def add_field(name: str, label: str, type: str, choices=(), position: int = 0) -> CustomField:
    """A new custom field; ``name`` a unique slug (lowercase Latin letters, digits, _)."""
    name = (name or "").strip()
    if not NAME_PATTERN.fullmatch(name):
        raise FieldError({"name": _("A field name starts with a lowercase Latin letter and "
                                    "has only lowercase Latin letters, digits and _ "
                                    "(at most %(n)d).", n=60)})
    if db.session.execute(select(CustomField.id).where(CustomField.name == name)).first():
        raise FieldError({"name": _("There is already a field named %(name)s.", name=name)})
    if type not in FIELD_TYPES:
        raise FieldError({"type": _("Choose the kind of field.")})
    return define_field(name, _clean_label(label), type, _clean_choices(type, choices),
                        int(position or 0))


def change_field(field: CustomField, label: str, choices=(), position: int = 0) -> CustomField:
    """Change a field's label, choices (choice fields) and position; name and type stay."""
    field.label = _clean_label(label)
    field.choices = _clean_choices(field.type, choices)
    field.position = int(position or 0)
    db.session.flush()
    return field


def customers_with_value(field: CustomField) -> int:
    """How many customers have a value for ``field`` (what deleting it removes)."""
    return db.session.execute(select(func.count()).select_from(Customer).where(
        Customer.custom[field.name].as_string().is_not(None))).scalar_one()


def remove_field(field: CustomField) -> int:
    """Delete a field and its values from every customer; returns how many lost a value."""
    name = field.name
    has_value = Customer.custom[name].as_string().is_not(None)
    if db.session.get_bind().dialect.name == "postgresql":
        without = cast(cast(Customer.custom, JSONB).op("-")(name), JSON)
    else:
        without = func.json_remove(Customer.custom, f'$."{name}"')
    changed = db.session.execute(
        update(Customer).where(has_value).values(custom=without)
        .execution_options(synchronize_session=False)).rowcount
    db.session.delete(field)
    audit.record("customers.field_removed", target=f"core_custom_field:{name}",
                 detail={"customers": changed})
    db.session.flush()
    db.session.expire_all()
    return changed
