"""Segments API, static lists (add/remove/CSV import) and the members CSV export."""

import csv
import io

from flask_babel import force_locale

from core.api.tokens import create_token
from core.auth.models import User
from core.extensions import db
from modules.marketing import segment_lists
from modules.marketing.models.segments import Segment
from tests.modules.marketing.test_segments import data  # noqa: F401 - fixture


def _bearer(app, make_user, email="root@example.ir", role="admin"):
    make_user(email, role=role, seats=["marketing"])
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == email)).scalar_one()
        _token, secret = create_token(user, "test", "read,write", None)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_create_list_get_update_and_members(app, client, make_user, data):  # noqa: F811
    api = _bearer(app, make_user)
    rules = {"match": "all", "rules": [{"field": "city", "op": "is", "value": "تهران"}]}
    made = client.post("/api/v1/marketing/segments", headers=api,
                       json={"name": "تهرانی‌ها", "rules": rules})
    assert made.status_code == 201, made.data
    body = made.get_json()
    assert body["last_count"] == 2 and body["kind"] == "dynamic"
    sid = body["id"]
    listed = client.get("/api/v1/marketing/segments", headers=api).get_json()["items"]
    assert [s["name"] for s in listed] == ["تهرانی‌ها"]

    members = client.get(f"/api/v1/marketing/segments/{sid}/members?size=1", headers=api)
    page = members.get_json()
    assert page["count"] == 2 and [m["display_name"] for m in page["items"]] == ["Ali"]
    rest = client.get(f"/api/v1/marketing/segments/{sid}/members?after={page['next']}",
                      headers=api).get_json()
    assert [m["display_name"] for m in rest["items"]] == ["Sara"]
    sms = client.get(f"/api/v1/marketing/segments/{sid}/members?consenting=sms",
                     headers=api).get_json()
    assert sms["items"] == [{"id": data["ali"], "kind": "person", "display_name": "Ali",
                             "mobile": "+989121111111", "email": "ali@example.ir"}]

    changed = client.patch(f"/api/v1/marketing/segments/{sid}", headers=api, json={
        "rules": {"match": "all", "rules": [{"field": "kind", "op": "is",
                                             "value": "organisation"}]}})
    assert changed.status_code == 200 and changed.get_json()["last_count"] == 1
    assert client.get(f"/api/v1/marketing/segments/{sid}", headers=api).get_json()["name"] \
        == "تهرانی‌ها"


def test_api_validation_names_the_bad_rule(app, client, make_user, data):  # noqa: F811
    api = {**_bearer(app, make_user), "Accept-Language": "en"}
    bad = client.post("/api/v1/marketing/segments", headers=api, json={
        "name": "x", "rules": {"match": "all", "rules": [
            {"field": "kind", "op": "is", "value": "person"},
            {"match": "any", "rules": [{"field": "shoe", "op": "is", "value": 1}]}]}})
    assert bad.status_code == 422
    errors = bad.get_json()["errors"]
    assert "2.1" in errors["rules"] and "shoe" in errors["rules"]
    client.post("/api/v1/marketing/segments", headers=api, json={"name": "dup"})
    again = client.post("/api/v1/marketing/segments", headers=api, json={"name": "dup"})
    assert again.status_code == 422 and "dup" in again.get_json()["errors"]["name"]


def test_viewers_cannot_create(app, client, make_user, data):  # noqa: F811
    api = _bearer(app, make_user, "agent@example.ir", role="agent")
    refused = client.post("/api/v1/marketing/segments", headers=api, json={"name": "x"})
    assert refused.status_code in (401, 403)


def test_static_list_add_remove_import_and_export(app, data):  # noqa: F811
    with app.app_context():
        seg = Segment(name="list", kind="static", rules={})
        db.session.add(seg)
        db.session.flush()
        assert segment_lists.add_members(seg, [data["ali"], data["gone"], 99999]) == 1
        assert segment_lists.add_members(seg, [data["ali"]]) == 0
        text = "mobile,email\n۰۹۱۲۲۲۲۲۲۲۲,\n,SARA@example.ir\n09120000000,nobody@x.ir\n"
        added, unmatched = segment_lists.import_contacts(seg, text)
        assert added == 2
        assert unmatched == ["mobile", "email", "09120000000", "nobody@x.ir"]
        assert segment_lists.remove_members(seg, [data["acme"]]) == 1
        db.session.commit()
        with force_locale("fa"):
            rows = list(csv.reader(io.StringIO(segment_lists.export_csv(seg).lstrip("\ufeff"))))
        assert rows[0][0] != "Id"  # headers in the user's language
        assert [r[2] for r in rows[1:]] == ["Ali", "Sara"]
        assert rows[1][3] == "+989121111111" and rows[2][4] == "sara@example.ir"
        with force_locale("en"):
            header = next(csv.reader(io.StringIO(segment_lists.export_csv(seg)[1:])))
        assert header[:3] == ["Id", "Kind", "Display name"]
