"""Segment pages: list with counts, the rule builder (htmx rows, live count), static lists,
CSV export in the user's language, delete with confirmation."""

import io

from core.extensions import db
from modules.marketing.models.segments import Segment, SegmentMember
from tests.conftest import csrf_from
from tests.modules.marketing.test_segments import data  # noqa: F401 - fixture


def _admin(make_user, login, locale=None):
    make_user(seats=["marketing"], locale=locale)
    return login()


def _rule_form(token, **extra):
    form = {"csrf_token": token, "n": ["r", "r-0"], "match-r": "all", "kind-r-0": "rule",
            "field-r-0": "city", "op-r-0": "is", "value-r-0": "تهران"}
    form.update(extra)
    return form


def test_builder_adds_rows_and_groups_and_counts_live(app, client, make_user, login,
                                                      data):  # noqa: F811
    client = _admin(make_user, login)
    page = client.get("/marketing/segments/new")
    assert page.status_code == 200 and b'id="rule-builder"' in page.data
    token = csrf_from(page)
    counted = client.post("/marketing/segments/count", data=_rule_form(token))
    assert b"data-live-count>\xdb\xb2<" in counted.data  # ۲ (Ali and Sara)

    grown = client.post("/marketing/segments/builder",
                        data=_rule_form(token, action="add_group:r")).data.decode()
    assert 'data-group="r-1"' in grown and 'data-rule-row="r-1-0"' in grown
    assert 'value="تهران"' in grown
    # an empty value in the new row explains itself instead of counting
    assert "data-live-error" in grown

    # changing the field resets operator and value to suit it
    changed = client.post("/marketing/segments/builder", data=_rule_form(
        token, **{"field-r-0": "kind"})).data.decode()
    assert 'name="op-r-0"' in changed and 'value="organisation"' in changed
    removed = client.post("/marketing/segments/builder",
                          data=_rule_form(token, action="remove:r-0")).data.decode()
    assert "data-rule-row" not in removed and "data-no-rules" in removed
    assert "data-live-count>۴<" in removed


def test_create_dynamic_segment_and_see_members(app, client, make_user, login,
                                                data):  # noqa: F811
    client = _admin(make_user, login)
    token = csrf_from(client.get("/marketing/segments/new"))
    form = _rule_form(token, name="تهرانی‌ها", description="", kind="dynamic")
    form.update({"n": ["r", "r-0", "r-1"], "kind-r-1": "rule", "field-r-1": "created",
                 "op-r-1": "from", "value-r-1": "۱۴۰۰/۰۱/۰۱"})
    saved = client.post("/marketing/segments/new", data=form)
    assert saved.status_code == 302
    with app.app_context():
        seg = db.session.execute(db.select(Segment)).scalar_one()
        assert seg.rules["rules"][1]["value"] == "2021-03-21" and seg.last_count == 2
        sid = seg.id
    shown = client.get(f"/marketing/segments/{sid}").data.decode()
    assert "Ali" in shown and "Sara" in shown and "Acme" not in shown
    assert "۱۴۰۰/۰۱/۰۱" in shown  # the rule summary shows the Jalali date
    listed = client.get("/marketing/segments").data.decode()
    assert "تهرانی‌ها" in listed and "data-count>۲<" in listed
    edit = client.get(f"/marketing/segments/{sid}/edit").data.decode()
    assert 'value="۱۴۰۰/۰۱/۰۱"' in edit


def test_bad_rules_are_explained_and_nothing_saved(app, client, make_user, login,
                                                   data):  # noqa: F811
    client = _admin(make_user, login, locale="en")
    token = csrf_from(client.get("/marketing/segments/new"))
    form = _rule_form(token, name="x", kind="dynamic", **{"field-r-0": "clv",
                                                          "op-r-0": "gte", "value-r-0": "abc"})
    page = client.post("/marketing/segments/new", data=form)
    assert page.status_code == 200 and "Rule 1: Predicted value" in page.data.decode()
    with app.app_context():
        assert db.session.execute(db.select(Segment)).first() is None


def test_static_list_pages_and_csv_export(app, client, make_user, login, data):  # noqa: F811
    client = _admin(make_user, login)
    token = csrf_from(client.get("/marketing/segments/new"))
    client.post("/marketing/segments/new", data={"csrf_token": token, "name": "VIP",
                                                 "kind": "static"})
    with app.app_context():
        sid = db.session.execute(db.select(Segment.id)).scalar_one()
    page = client.get(f"/marketing/segments/{sid}")
    token = csrf_from(page)
    assert "data-customer-search" in page.data.decode()
    options = client.get(f"/marketing/segments/{sid}/customer-options?q=Ali").data.decode()
    assert f'data-add-customer="{data["ali"]}"' in options
    client.post(f"/marketing/segments/{sid}/members", data={"csrf_token": token,
                                                             "add": str(data["ali"])})
    upload = io.BytesIO("موبایل\n۰۹۱۲۲۲۲۲۲۲۲\n09129999999\n".encode())
    client.post(f"/marketing/segments/{sid}/import",
                data={"csrf_token": token, "file": (upload, "list.csv")},
                content_type="multipart/form-data")
    with app.app_context():
        members = set(db.session.execute(db.select(SegmentMember.customer_id)).scalars())
    assert members == {data["ali"], data["acme"]}
    flashed = client.get(f"/marketing/segments/{sid}").data.decode()
    assert "09129999999" in flashed
    client.post(f"/marketing/segments/{sid}/members", data={"csrf_token": token,
                                                             "remove": str(data["acme"])})
    export = client.get(f"/marketing/segments/{sid}/export.csv")
    text = export.data.decode("utf-8-sig")
    assert export.mimetype == "text/csv" and "Ali" in text and "Acme" not in text
    assert not text.startswith("Id,")  # fa headers for a fa user


def test_delete_asks_first(app, client, make_user, login, data):  # noqa: F811
    client = _admin(make_user, login)
    with app.app_context():
        seg = Segment(name="old", kind="static", rules={})
        db.session.add(seg)
        db.session.commit()
        sid = seg.id
    ask = client.get(f"/marketing/segments/{sid}/delete")
    assert "old" in ask.data.decode()
    with app.app_context():
        assert db.session.get(Segment, sid) is not None
    client.post(f"/marketing/segments/{sid}/delete", data={"csrf_token": csrf_from(ask)})
    with app.app_context():
        assert db.session.get(Segment, sid) is None


def test_viewers_cannot_change_segments(app, client, make_user, login, data):  # noqa: F811
    make_user("agent@example.ir", role="agent", seats=["marketing"])
    client = login("agent@example.ir")
    assert client.get("/marketing/segments").status_code == 200
    assert client.get("/marketing/segments/new").status_code == 403


def test_a_list_value_from_the_api_survives_the_builder(app, client, make_user, login,
                                                        data):  # noqa: F811
    client = _admin(make_user, login)
    with app.app_context():
        seg = Segment(name="rfm", kind="dynamic", rules={"match": "all", "rules": [
            {"field": "rfm", "op": "is", "value": ["champions", "at_risk"]}]})
        db.session.add(seg)
        db.session.commit()
        sid = seg.id
    edit = client.get(f"/marketing/segments/{sid}/edit")
    html = edit.data.decode()
    assert "multiple" in html and 'value="champions" selected' in html
    assert 'value="at_risk" selected' in html and 'value="loyal" selected' not in html
    form = {"csrf_token": csrf_from(edit), "name": "rfm", "n": ["r", "r-0"], "match-r": "all",
            "kind-r-0": "rule", "field-r-0": "rfm", "op-r-0": "is",
            "value-r-0": ["champions", "at_risk"]}
    assert client.post(f"/marketing/segments/{sid}/edit", data=form).status_code == 302
    with app.app_context():
        assert db.session.get(Segment, sid).rules["rules"][0]["value"] == [
            "champions", "at_risk"]
        assert db.session.get(Segment, sid).last_count == 2
