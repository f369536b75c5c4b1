"""Custom field admin: list, add (name a unique slug), edit label/choices/position, delete
with a warning that removes every customer's value; only for admin.settings."""

import pytest

from core.customers.models import Customer, CustomField
from core.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    """English messages, so assertions on them do not depend on the catalogs."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


def _add(client, **data):
    page = client.get("/customers/fields/new")
    assert page.status_code == 200
    return client.post("/customers/fields/new", data={"csrf_token": csrf_from(page), **data})


def _fields(app) -> dict:
    with app.app_context():
        return {f.name: (f.label, f.type, f.choices, f.position)
                for f in db.session.query(CustomField)}


def test_add_edit_and_list_fields_of_every_type(app, admin):
    for name, label, kind in (("industry", "صنعت", "text"), ("staff", "کارکنان", "number"),
                              ("since", "مشتری از", "date"), ("club", "عضو باشگاه", "bool")):
        response = _add(admin, name=name, label=label, type=kind, position="۲")
        assert response.status_code == 302, response.data[-2000:]
    response = _add(admin, name="size", label="اندازه", type="choice",
                    choices="کوچک\n\nبزرگ\nکوچک\n", position="1")
    assert response.status_code == 302
    fields = _fields(app)
    assert fields["size"] == ("اندازه", "choice", ["کوچک", "بزرگ"], 1)
    assert fields["staff"] == ("کارکنان", "number", [], 2)
    assert fields["since"][1] == "date" and fields["club"][1] == "bool"

    listing = admin.get("/customers/fields/").get_data(as_text=True)
    assert listing.index('data-field-row="size"') < listing.index('data-field-row="industry"')
    # the new fields are in the customer form at once
    assert 'name="custom_since"' in admin.get("/customers/new").get_data(as_text=True)

    with app.app_context():
        field_id = db.session.query(CustomField).filter_by(name="size").one().id
    page = admin.get(f"/customers/fields/{field_id}/edit")
    assert "کوچک\nبزرگ" in page.get_data(as_text=True)
    response = admin.post(f"/customers/fields/{field_id}/edit", data={
        "csrf_token": csrf_from(page), "label": "اندازه شرکت", "choices": "کوچک\nمتوسط\nبزرگ",
        "position": "9", "name": "renamed", "type": "text"})
    assert response.status_code == 302
    # the name and the kind never change; label, choices and position do
    assert _fields(app)["size"] == ("اندازه شرکت", "choice", ["کوچک", "متوسط", "بزرگ"], 9)


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"name": "Industry", "label": "صنعت", "type": "text"}, "name", "lowercase Latin letter"),
    ({"name": "صنعت", "label": "صنعت", "type": "text"}, "name", "lowercase Latin letter"),
    ({"name": "has space", "label": "x", "type": "text"}, "name", "lowercase Latin letter"),
    ({"name": "custom.x", "label": "x", "type": "text"}, "name", "lowercase Latin letter"),
    ({"name": "taken", "label": "x", "type": "text"}, "name",
     "There is already a field named taken."),
    ({"name": "size", "label": "اندازه", "type": "choice", "choices": " \n"}, "choices",
     "A choice field needs at least one choice."),
    ({"name": "ok", "label": "   ", "type": "text"}, "label", "This field is required."),
    ({"name": "ok", "label": "x", "type": "colour"}, "type", "Not a valid choice"),
])
def test_add_refuses_bad_definitions_with_a_reason(app, admin, data, field, message):
    assert _add(admin, name="taken", label="گرفته", type="text").status_code == 302
    response = _add(admin, **data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html
    assert set(_fields(app)) == {"taken"}


def test_edit_refuses_an_empty_choice_list(app, admin):
    assert _add(admin, name="size", label="اندازه", type="choice",
                choices="کوچک").status_code == 302
    with app.app_context():
        field_id = db.session.query(CustomField).one().id
    page = admin.get(f"/customers/fields/{field_id}/edit")
    response = admin.post(f"/customers/fields/{field_id}/edit", data={
        "csrf_token": csrf_from(page), "label": "اندازه", "choices": ""})
    assert response.status_code == 200
    assert "A choice field needs at least one choice." in response.get_data(as_text=True)
    assert _fields(app)["size"][2] == ["کوچک"]


def test_delete_warns_then_removes_the_field_and_every_value(app, admin, make_customer):
    from core.customers.custom_fields import define_field

    with app.app_context():
        define_field("club", "عضو باشگاه", "bool")
        define_field("industry", "صنعت", "text")
        db.session.commit()
        field_id = db.session.query(CustomField).filter_by(name="club").one().id
    first = make_customer("admin@example.ir", first_name="الف",
                          custom={"club": True, "industry": "فولاد"})
    second = make_customer("admin@example.ir", first_name="ب", custom={"club": False})
    third = make_customer("admin@example.ir", first_name="پ", custom={"industry": "نفت"})

    warning = admin.get(f"/customers/fields/{field_id}/delete")
    html = warning.get_data(as_text=True)
    assert "removes its values from every customer" in html
    assert "2 customers have a value for this field." in html
    with app.app_context():  # the warning page changes nothing
        assert db.session.get(Customer, first).custom["club"] is True

    response = admin.post(f"/customers/fields/{field_id}/delete",
                          data={"csrf_token": csrf_from(warning)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.query(CustomField).filter_by(name="club").count() == 0
        assert db.session.get(Customer, first).custom == {"industry": "فولاد"}
        assert db.session.get(Customer, second).custom == {}
        assert db.session.get(Customer, third).custom == {"industry": "نفت"}
        from core.audit import AuditLog

        entry = db.session.query(AuditLog).filter_by(action="customers.field_removed").one()
        assert entry.detail == {"customers": 2}
    assert admin.get(f"/customers/fields/{field_id}/delete").status_code == 404


def test_only_admin_settings_may_manage_fields(app, client, make_user, login):
    make_user("m@example.ir", role="manager")
    login("m@example.ir")
    for path in ("/customers/fields/", "/customers/fields/new"):
        assert client.get(path).status_code == 403
    assert client.post("/customers/fields/new", data={"name": "x", "label": "x",
                                                      "type": "text"}).status_code in (400, 403)
    assert _fields(app) == {}


def test_the_settings_menu_links_the_field_admin(admin):
    html = admin.get("/").get_data(as_text=True)
    assert 'href="/customers/fields/"' in html
