"""Privacy: one customer's data as a JSON file, within the user's record scope."""

import json
from datetime import date


def test_export_everything_about_one_customer(app, client, make_user, login, make_customer):
    make_user("admin@example.ir", name="مدیر")
    login("admin@example.ir")
    customer_id = make_customer("admin@example.ir", first_name="سارا", last_name="کریمی",
                                mobiles=["09123456789"], birthday=date(1991, 8, 3),
                                tags=["ویژه"], address={"city": "شیراز"})
    with app.test_request_context():
        from core.customers.models import Customer
        from core.customers.services import add_note
        from core.customers.tasks import add_task
        from core.extensions import db

        customer = db.session.get(Customer, customer_id)
        add_note(customer, "قرار ملاقات", kind="call")
        add_task(customer, "پیگیری")
        db.session.commit()
    assert 'data-export="json"' in client.get(f"/customers/{customer_id}").get_data(as_text=True)
    response = client.get(f"/customers/{customer_id}/export.json")
    assert response.status_code == 200
    assert f"customer-{customer_id}.json" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["customer"]["display_name"] == "سارا کریمی"
    assert data["customer"]["birthday"] == "1991-08-03"
    assert data["contacts"] == [{"kind": "mobile", "value": "+989123456789", "label": "",
                                 "primary": True}]
    assert data["tags"] == ["ویژه"] and data["addresses"][0]["city"] == "شیراز"
    assert data["notes"][0]["body"] == "قرار ملاقات" and data["tasks"][0]["title"] == "پیگیری"
    assert {e["kind"] for e in data["timeline"]} >= {"call", "task", "audit"}


def test_export_is_scoped(app, client, make_user, login, make_customer):
    make_user("manager@example.ir", role="manager")
    make_user("b@example.ir", role="agent")
    theirs = make_customer("b@example.ir", first_name="دیگری")
    with app.app_context():
        from core.auth.models import Role
        from core.extensions import db

        role = db.session.query(Role).filter_by(name="manager").one()
        role.scopes = {**(role.scopes or {}), "customers": "own"}
        db.session.commit()
    login("manager@example.ir")
    assert client.get(f"/customers/{theirs}/export.json").status_code == 404
