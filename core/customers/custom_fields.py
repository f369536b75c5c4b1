"""Admin-defined customer fields: definitions in ``CustomField``, values in ``Customer.custom``."""

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.customers.models import FIELD_TYPES, CustomField
from core.extensions import db
from core.i18n import parse_jalali_date, parse_number


def definitions() -> list[CustomField]:
    """Every custom field in display order."""
    return list(db.session.execute(
        select(CustomField).order_by(CustomField.position, CustomField.id)).scalars())


def define_field(name: str, label: str, type: str = "text",
                 choices: list[str] | None = None, position: int = 0) -> CustomField:
    """Add a custom field definition (``type`` one of text, number, date, choice, bool)."""
    if type not in FIELD_TYPES:
        raise ValueError(_("A custom field's type is one of: %(types)s",
                           types=", ".join(FIELD_TYPES)))
    if type == "choice" and not choices:
        raise ValueError(_("A choice field needs at least one choice."))
    field = CustomField(name=name, label=label, type=type, choices=list(choices or []),
                        position=position)
    db.session.add(field)
    db.session.flush()
    return field


def _convert(field: CustomField, value: Any) -> Any:
    if field.type == "text":
        return str(value).strip()
    if field.type == "number":
        return value if isinstance(value, int | float) else int(parse_number(str(value)))
    if field.type == "date":
        if isinstance(value, date):
            return value.isoformat()
        text = str(value)
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            return parse_jalali_date(text).isoformat()
    if field.type == "bool":
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("1", "true", "yes", "on", "بله")
    if str(value) not in field.choices:
        raise ValueError(_("%(value)s is not one of the choices", value=value))
    return str(value)


def clean_custom(values: dict, current: dict) -> tuple[dict, dict[str, str]]:
    """``current`` updated with ``values`` checked against the definitions, and the errors."""
    fields = {f.name: f for f in definitions()}
    result = dict(current)
    errors = {}
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            errors[f"custom.{name}"] = _("There is no custom field named %(name)s", name=name)
            continue
        if value in (None, ""):
            result.pop(name, None)
            continue
        try:
            result[name] = _convert(field, value)
        except (ValueError, TypeError) as exc:
            errors[f"custom.{name}"] = str(exc) or _("This value is not valid.")
    return result, errors
