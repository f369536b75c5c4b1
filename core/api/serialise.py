"""Output schemas dumped without marshmallow's per-field machinery (same data, fewer calls).

``schema.dump`` sends every field of every item through several generic steps (serialize,
get_value, the schema's get_attribute, utils.get_value, _serialize): an API page of 25 items
with nested lines makes thousands of calls. ``dumper(schema)`` reads the schema's fields once
and returns a function that produces the same data with one attribute read and one
conversion per field. Field types it does not know are still dumped by the field itself, and
a schema with dump hooks or its own ``get_attribute`` by ``schema.dump``.

    @bp.response(200, TicketPage)          # documents the response
    def get(self, args):
        ...
        return respond(TicketPage, {"items": page.items, "next": page.next_token})
"""

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask import Response, jsonify
from marshmallow import fields
from marshmallow.utils import ensure_text_type
from marshmallow.utils import get_value as _ma_get_value

_missing = ma.missing
_BY_CLASS: dict[type, Callable[[Any], Any]] = {}


def _plain(field) -> bool:
    """Whether ``field`` is exactly a stock marshmallow type (a subclass may dump otherwise)."""
    return type(field).__module__ == fields.__name__


def _converter(field) -> Callable[[Any], Any] | None:
    """value -> dumped value, as ``field._serialize`` does it; None when not known here."""
    kind = type(field)
    if not _plain(field):
        return None
    if kind in (fields.String, fields.Raw):
        if kind is fields.Raw:
            return lambda value: value
        return lambda value: value if value is None or type(value) is str \
            else ensure_text_type(value)
    if kind in (fields.Integer, fields.Float) and not field.as_string:
        number = int if kind is fields.Integer else float
        return lambda value: None if value is None else number(value)
    if kind is fields.Boolean:
        slow = field._serialize
        return lambda value: value if value is None or type(value) is bool \
            else slow(value, None, None)
    if kind in (fields.DateTime, fields.Date, fields.Time):
        func = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        if func is None:
            return None
        return lambda value: None if value is None else func(value)
    if kind is fields.Dict:
        if field.key_field is None and field.value_field is None:
            return lambda value: None if value is None else dict(value)
        slow = field._serialize
        return lambda value: slow(value, None, None)
    if kind is fields.Nested:
        schema = field.schema
        one = _one(schema)
        if schema.many or field.many:
            return lambda value: None if value is None else [one(item) for item in value]
        return lambda value: None if value is None else one(value)
    if kind is fields.List:
        inner = _converter(field.inner)
        if inner is None:
            return None
        return lambda value: None if value is None else [inner(item) for item in value]
    return None


def _one(schema: ma.Schema) -> Callable[[Any], dict]:
    """obj -> the dict ``schema.dump(obj, many=False)`` returns."""
    if (schema._hooks["pre_dump"] or schema._hooks["post_dump"]
            or type(schema).get_attribute is not ma.Schema.get_attribute):
        return lambda obj: schema.dump(obj, many=False)
    plan = []  # (output key, attribute or None, converter or None, field, name)
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        if type(field) is fields.Function and field.serialize_func is not None:
            plan.append((key, None, field.serialize_func, field, name))
            continue
        convert = _converter(field) if field._CHECK_ATTRIBUTE else None
        attribute = field.attribute or name
        if convert is None or "." in attribute:  # marshmallow dumps this one itself
            plan.append((key, None, None, field, name))
        else:
            plan.append((key, attribute, convert, field, name))
    accessor = schema.get_attribute

    def one(obj) -> dict:
        mapping = hasattr(type(obj), "__getitem__")  # dicts, rows: marshmallow's lookup
        out = {}
        for key, attribute, convert, field, name in plan:
            if attribute is None:
                value = field.serialize(name, obj, accessor) if convert is None \
                    else convert(obj)
                if value is not _missing:
                    out[key] = value
                continue
            value = _ma_get_value(obj, attribute) if mapping \
                else getattr(obj, attribute, _missing)
            if value is _missing:
                default = field.dump_default
                value = default() if callable(default) else default
                if value is _missing:
                    continue
            out[key] = convert(value)
        return out

    return one


def dumper(schema: ma.Schema | type[ma.Schema]) -> Callable[[Any], Any]:
    """data -> what ``schema.dump(data)`` returns (a list when the schema is ``many``).

    Built once per schema class (or instance) and kept: schemas are declared at import."""
    if isinstance(schema, type):
        found = _BY_CLASS.get(schema)
        if found is None:
            found = _BY_CLASS[schema] = dumper(schema())
        return found
    found = schema.__dict__.get("_crm_dumper")
    if found is None:
        one = _one(schema)
        found = (lambda data: [one(item) for item in data]) if schema.many else one
        schema._crm_dumper = found
    return found


def respond(schema: ma.Schema | type[ma.Schema], data, status: int = 200) -> Response:
    """The JSON response flask-smorest would build from ``schema.dump(data)``.

    Keep ``@bp.response(status, schema)`` on the view for the API documentation."""
    response = jsonify(dumper(schema)(data))
    response.status_code = status
    return response
