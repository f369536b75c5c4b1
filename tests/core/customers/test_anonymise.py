"""Anonymising a customer: personal data gone, purchases kept, hidden from search; audited."""

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from core.analytics.models import Purchase
from core.analytics.services import record_purchase
from core.audit import AuditLog
from core.customers.anonymise import add_anonymise_handler
from core.customers.models import Affiliation, ContactPoint, Customer, Note, Task
from core.database import get_setting, set_setting
from core.extensions import db
from core.i18n import to_latin_digits
from tests.conftest import csrf_from
from tests.core.customers.conftest import national_code

PERSONAL = ("سارا", "کریمی", "09123456789", "+989123456789", "sara@example.ir",
            national_code(), "1991-08-03", "2015-06-01", "شیراز", "خیابان زند", "قرار ملاقات",
            "تماس با سارا", "ویژه", "قرمز", "مدیر خرید")


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


@pytest.fixture
def sara(app, make_customer):
    from core.customers.custom_fields import define_field
    from core.customers.services import add_note, affiliate
    from core.customers.tasks import add_task

    with app.app_context():
        define_field("colour", "رنگ محبوب")
        db.session.commit()
    customer_id = make_customer("admin@example.ir", first_name="سارا", last_name="کریمی",
                                mobiles=["09123456789"], emails=["sara@example.ir"],
                                national_code=national_code(), birthday=date(1991, 8, 3),
                                anniversary=date(2015, 6, 1), tags=["ویژه"],
                                custom={"colour": "قرمز"}, consent_sms=True,
                                address={"city": "شیراز", "line": "خیابان زند"})
    org = make_customer(kind="organisation", legal_name="شرکت نمونه")
    with app.test_request_context():
        customer = db.session.get(Customer, customer_id)
        add_note(customer, "قرار ملاقات", kind="call")
        add_task(customer, "تماس با سارا")
        affiliate(customer, db.session.get(Customer, org), "مدیر خرید")
        record_purchase(customer_id, 2_500_000, datetime(2024, 1, 5, tzinfo=UTC), "pos",
                        key="pos-9")
        db.session.commit()
    return customer_id


def test_anonymise_removes_personal_data_and_keeps_purchases(app, admin, sara):
    called = []

    def module_handler(customer_id):
        called.append(customer_id)
        set_setting("test.scrubbed", customer_id)

    add_anonymise_handler(app, module_handler)
    show = admin.get(f"/customers/{sara}").get_data(as_text=True)
    assert "data-anonymise" in show
    confirm = admin.get(f"/customers/{sara}/anonymise")
    text = confirm.get_data(as_text=True)
    assert "برگشت‌پذیر نیست" in text and "data-confirm" in text  # "cannot be undone", in fa
    response = admin.post(f"/customers/{sara}/anonymise",
                          data={"csrf_token": csrf_from(confirm)})
    assert response.status_code == 302
    assert called == [sara]
    with app.app_context():
        customer = db.session.get(Customer, sara)
        assert customer.anonymised_at is not None
        assert to_latin_digits(customer.display_name).endswith(f" {sara}")
        assert (customer.first_name, customer.last_name) == ("", "")
        assert customer.national_code is None and customer.birthday is None
        assert customer.anniversary is None and customer.custom == {} and customer.tags == []
        assert not customer.consent_sms
        assert db.session.scalar(select(func.count()).select_from(ContactPoint)) == 0
        assert customer.addresses == []
        assert db.session.scalar(select(func.count()).select_from(Affiliation)) == 0
        assert db.session.scalar(select(Note.body)) == ""
        task = db.session.scalars(select(Task)).one()
        assert "سارا" not in task.title and task.done_at is not None
        assert db.session.scalar(select(Purchase.amount).where(
            Purchase.customer_id == sara)) == 2_500_000
        assert "سارا" not in customer.search_key
        assert get_setting("test.scrubbed") == sara
        assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "customer.anonymise",
            AuditLog.target == f"customer:{sara}")) == 1
    for query in ("", "سارا", "09123456789", "sara@example.ir", national_code(), "ناشناس",
                  "Anonymous"):
        listing = admin.get("/customers/", query_string={"q": query}).get_data(as_text=True)
        assert f'data-customer="{sara}"' not in listing, query
    page = admin.get(f"/customers/{sara}").get_data(as_text=True)
    assert "data-anonymised" in page and "data-anonymise " not in page


def test_the_privacy_export_of_an_anonymised_customer_has_no_personal_data(app, admin, sara):
    confirm = admin.get(f"/customers/{sara}/anonymise")
    admin.post(f"/customers/{sara}/anonymise", data={"csrf_token": csrf_from(confirm)})
    body = admin.get(f"/customers/{sara}/export.json").get_data(as_text=True)
    data = json.loads(body)
    assert data["customer"]["anonymised_at"]
    for value in PERSONAL:
        assert value not in body, value
    assert data["contacts"] == [] and data["addresses"] == [] and data["affiliations"] == []


def test_a_failing_handler_changes_nothing(app, admin, sara):
    def fails(customer_id):
        raise RuntimeError("ticket archive is offline")

    add_anonymise_handler(app, fails)
    confirm = admin.get(f"/customers/{sara}/anonymise")
    response = admin.post(f"/customers/{sara}/anonymise",
                          data={"csrf_token": csrf_from(confirm)}, follow_redirects=True)
    assert "ticket archive is offline" in response.get_data(as_text=True)
    with app.app_context():
        customer = db.session.get(Customer, sara)
        assert customer.anonymised_at is None and customer.first_name == "سارا"
        assert customer.values("mobile") == ["+989123456789"]
        assert db.session.scalar(select(Note.body)) == "قرار ملاقات"


def test_anonymising_needs_the_merge_permission_and_scope(app, client, make_user, login,
                                                          make_customer):
    from core.auth.models import Role

    make_user("a@example.ir", role="agent")
    make_user("b@example.ir", role="agent")
    mine = make_customer("a@example.ir", first_name="من")
    theirs = make_customer("b@example.ir", first_name="دیگری")
    login("a@example.ir")
    assert client.get(f"/customers/{mine}/anonymise").status_code == 403
    assert "data-anonymise" not in client.get(f"/customers/{mine}").get_data(as_text=True)
    with app.app_context():
        role = db.session.query(Role).filter_by(name="agent").one()
        role.permissions = [*role.permissions, "customers.merge"]
        db.session.commit()
    assert client.get(f"/customers/{mine}/anonymise").status_code == 200
    page = client.get(f"/customers/{mine}/anonymise")
    assert client.post(f"/customers/{theirs}/anonymise",
                       data={"csrf_token": csrf_from(page)}).status_code == 404
    with app.app_context():
        assert db.session.get(Customer, theirs).anonymised_at is None
