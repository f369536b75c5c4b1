"""``core.api.serialise.dumper`` returns exactly what ``schema.dump`` returns."""

import datetime as dt
from types import SimpleNamespace

import marshmallow as ma
import pytest

from core.api.serialise import dumper


class Line(ma.Schema):
    code = ma.fields.String()
    amount = ma.fields.Integer()
    share = ma.fields.Float(allow_none=True)
    label = ma.fields.Function(lambda line: f"#{line.code}")


class Thing(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String(data_key="title")
    number = ma.fields.String()  # an int dumped as text
    active = ma.fields.Boolean()
    flag = ma.fields.Boolean()  # not a bool: marshmallow's truthy sets
    at = ma.fields.DateTime()
    day = ma.fields.Date(allow_none=True)
    when = ma.fields.DateTime(format="%Y/%m/%d")
    data = ma.fields.Dict()
    keyed = ma.fields.Dict(keys=ma.fields.String())
    lines = ma.fields.List(ma.fields.Nested(Line))
    main = ma.fields.Nested(Line, allow_none=True)
    words = ma.fields.List(ma.fields.String())
    owner_name = ma.fields.String(attribute="owner.name")
    email = ma.fields.Email()
    price = ma.fields.Decimal(as_string=True)
    secret = ma.fields.String(load_only=True)
    absent = ma.fields.String()
    fallback = ma.fields.String(dump_default="none")
    method = ma.fields.Method("twice")

    def twice(self, obj):
        return obj.id * 2


class Hooked(ma.Schema):
    id = ma.fields.Integer()

    @ma.post_dump
    def mark(self, data, **_kw):
        return {**data, "hooked": True}


class Page(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(Thing))
    hooked = ma.fields.List(ma.fields.Nested(Hooked))
    next = ma.fields.String(allow_none=True)


def _thing(n: int):
    from decimal import Decimal

    lines = [SimpleNamespace(code=f"L{n}{i}", amount=i * 10, share=None if i else 0.5)
             for i in range(3)]
    return SimpleNamespace(
        id=n, name=f"thing {n}", number=n * 7, active=bool(n % 2), flag=n % 2,
        at=dt.datetime(2024, 3, n + 1, 12, 30, tzinfo=dt.UTC),
        day=None if n else dt.date(2024, 1, 2),
        when=dt.datetime(2024, 5, 6), data={"a": n, "b": [1, 2]}, keyed={1: "x"}, lines=lines,
        main=lines[0] if n else None, words=["a", 1], owner=SimpleNamespace(name=f"o{n}"),
        email="a@b.ir", price=Decimal("1.50"), secret="s", fallback=None)


@pytest.mark.parametrize("data", [
    {"items": [_thing(n) for n in range(3)], "hooked": [SimpleNamespace(id=4)], "next": None},
    {"items": [], "hooked": [], "next": "abc"},
])
def test_same_as_marshmallow(data):
    assert dumper(Page)(data) == Page().dump(data)


def test_many_and_instances():
    things = [_thing(n) for n in range(2)]
    assert dumper(Thing(many=True))(things) == Thing(many=True).dump(things)
    assert dumper(Thing(only=("id", "lines")))(things[0]) == Thing(only=("id", "lines")).dump(
        things[0])
    assert dumper(Hooked)(SimpleNamespace(id=1)) == {"id": 1, "hooked": True}
