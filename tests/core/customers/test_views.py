"""Customer pages: the form with a Jalali birthday, search, record scope, the 360 timeline."""

from datetime import UTC, date, datetime

import pytest

from core.customers.models import Customer
from core.customers.timeline import TimelineEntry, add_provider
from core.extensions import db
from tests.conftest import csrf_from
from tests.core.customers.conftest import national_code


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


def test_create_a_person_with_a_jalali_birthday_through_the_form(app, admin):
    page = admin.get("/customers/new")
    assert page.status_code == 200
    response = admin.post("/customers/new", data={
        "csrf_token": csrf_from(page), "kind": "person", "first_name": "علی",
        "last_name": "كريمي", "mobiles": "۰۹۱۲ ۳۴۵ ۶۷۸۹\n09350001122",
        "emails": "Ali@Example.ir", "birthday": "۱۳۷۰/۰۵/۱۲", "national_code": national_code(),
        "tags": "VIP", "city": "اصفهان", "owner_id": "0", "consent_sms": "y",
    })
    assert response.status_code == 302, response.data[:2000]
    with app.app_context():
        customer = db.session.query(Customer).one()
        assert customer.birthday == date(1991, 8, 3)
        assert customer.values("mobile") == ["+989123456789", "+989350001122"]
        assert customer.consent_sms and not customer.consent_email
        assert customer.addresses[0].city == "اصفهان"
        customer_id = customer.id
    assert response.headers["Location"].endswith(f"/customers/{customer_id}")
    show = admin.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "۱۳۷۰/۰۵/۱۲" in show and "۰۹۱۲ ۳۴۵ ۶۷۸۹" in show
    listing = admin.get("/customers/?q=علی کریمی").get_data(as_text=True)
    assert f'data-customer="{customer_id}"' in listing
    assert 'data-customer=' not in admin.get("/customers/?q=حسین").get_data(as_text=True)
    by_mobile = admin.get("/customers/?q=۰۹۱۲ ۳۴۵ ۶۷۸۹").get_data(as_text=True)
    assert f'data-customer="{customer_id}"' in by_mobile


def test_an_invalid_national_code_is_refused_with_the_reason(app, admin):
    page = admin.get("/customers/new")
    response = admin.post("/customers/new", data={
        "csrf_token": csrf_from(page), "kind": "person", "first_name": "رضا",
        "national_code": "۱۲۳۴۵۶۷۸۹۰", "owner_id": "0"})
    assert response.status_code == 200
    assert "کد ملی نیست" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Customer).count() == 0


def test_an_agent_with_scope_own_gets_404_for_another_agents_customer(
        app, client, make_user, make_customer, login):
    make_user("a@example.ir", role="agent")
    make_user("b@example.ir", role="agent")
    theirs = make_customer("b@example.ir", first_name="مشتری", last_name="دیگری")
    mine = make_customer("a@example.ir", first_name="مشتری", last_name="من")
    login("a@example.ir")
    assert client.get(f"/customers/{theirs}").status_code == 404
    assert client.get(f"/customers/{theirs}/edit").status_code == 404
    assert client.get(f"/customers/{mine}").status_code == 200
    listing = client.get("/customers/").get_data(as_text=True)
    assert f'data-customer="{mine}"' in listing and f'data-customer="{theirs}"' not in listing


def test_the_timeline_shows_a_note_audit_entries_and_a_providers_entry(app, admin, make_customer):
    customer_id = make_customer(first_name="سارا")

    def provider(customer):
        return [TimelineEntry(at=datetime(2024, 3, 20, 8, tzinfo=UTC), kind="invoice",
                              title=f"فاکتور مشتری {customer.id}", module="core")]

    add_provider(app, provider)
    page = admin.get(f"/customers/{customer_id}")
    response = admin.post(f"/customers/{customer_id}/notes", data={
        "csrf_token": csrf_from(page), "body": "تماس گرفت و پیش‌فاکتور خواست"})
    assert response.status_code == 302
    html = admin.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "تماس گرفت و پیش‌فاکتور خواست" in html
    assert f"فاکتور مشتری {customer_id}" in html
    assert 'data-entry="audit"' in html
    # newest first: the note (now) comes before the provider's entry (1403)
    assert html.index('data-entry="note"') < html.index('data-entry="invoice"')


def test_timeline_leaves_out_entries_of_inactive_modules(app, admin, make_customer):
    customer_id = make_customer(first_name="سارا")
    add_provider(app, lambda c: [TimelineEntry(at=datetime.now(UTC), kind="x",
                                               title="از ماژول ناشناس", module="nosuchmodule")])
    assert "از ماژول ناشناس" not in admin.get(f"/customers/{customer_id}").get_data(as_text=True)


def test_list_pages_with_keyset_tokens_and_sorts_by_name(app, admin, make_customer):
    for i in range(30):
        make_customer(first_name=f"مشتری {i:02d}")
    first = admin.get("/customers/?sort=name").get_data(as_text=True)
    assert first.count("data-customer=") == 25 and 'data-page="next"' in first
    import re

    after = re.search(r'href="([^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = admin.get(after).get_data(as_text=True)
    assert second.count("data-customer=") == 5


def test_persian_pages_show_no_latin_words_or_digits(app, admin, make_customer):
    from tests.core.test_translations import latin_in

    customer_id = make_customer(
        "admin@example.ir", first_name="علی", last_name="کریمی", mobiles=["09123456789"],
        emails=["ali@example.ir"], phones=["021 8888 7777"], national_code=national_code(),
        birthday=date(1991, 8, 3), tags=["مشتری ویژه"], source="نمایشگاه",
        address={"province": "تهران", "city": "تهران", "line": "خیابان آزادی",
                 "postal_code": "1345678911"})
    page = admin.get(f"/customers/{customer_id}")
    admin.post(f"/customers/{customer_id}/notes",
               data={"csrf_token": csrf_from(page), "body": "قرار ملاقات"})
    for path in ("/customers/", f"/customers/{customer_id}", f"/customers/{customer_id}/edit",
                 "/customers/?q=حسین"):
        response = admin.get(path)
        assert response.status_code == 200
        assert latin_in(response.get_data(as_text=True)) == [], path


def test_custom_fields_show_in_the_form_and_on_the_360_page(app, admin):
    from core.customers.custom_fields import define_field

    with app.app_context():
        define_field("since", "مشتری از", "date")
        define_field("size", "اندازه", "choice", ["کوچک", "بزرگ"])
        define_field("staff", "کارکنان", "number")
        db.session.commit()
    page = admin.get("/customers/new")
    assert 'name="custom_since"' in page.get_data(as_text=True)
    response = admin.post("/customers/new", data={
        "csrf_token": csrf_from(page), "kind": "organisation", "legal_name": "شرکت نمونه",
        "owner_id": "0", "custom_since": "۱۴۰۲/۰۱/۰۱", "custom_size": "بزرگ",
        "custom_staff": "۱٬۲۰۰"})
    assert response.status_code == 302, response.data[-3000:]
    with app.app_context():
        customer = db.session.query(Customer).one()
        assert customer.custom == {"since": "2023-03-21", "size": "بزرگ", "staff": 1200}
    html = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "۱۴۰۲/۰۱/۰۱" in html and "۱٬۲۰۰" in html and "بزرگ" in html
    edit = admin.get(f"/customers/{customer.id}/edit").get_data(as_text=True)
    assert 'value="۱۴۰۲/۰۱/۰۱"' in edit


def test_360_page_shows_affiliations_and_possible_duplicates(app, admin, make_customer):
    from core.customers import services

    person = make_customer(first_name="علی", mobiles=["09121234567"])
    twin = make_customer(first_name="علی‌رضا", mobiles=["0912 123 4567"])
    org = make_customer(kind="organisation", legal_name="شرکت پیوند")
    with app.app_context():
        services.affiliate(db.session.get(Customer, person), db.session.get(Customer, org),
                           "مدیر خرید")
        db.session.commit()
    html = admin.get(f"/customers/{person}").get_data(as_text=True)
    assert f'data-affiliation="{org}"' in html and "مدیر خرید" in html
    assert f'data-duplicate="{twin}"' in html
    org_html = admin.get(f"/customers/{org}").get_data(as_text=True)
    assert f'data-affiliation="{person}"' in org_html and "data-duplicates" not in org_html


def test_an_agent_sees_no_duplicates_or_affiliations_outside_their_scope(
        app, client, make_user, make_customer, login):
    make_user("a@example.ir", role="agent")
    make_user("b@example.ir", role="agent")
    mine = make_customer("a@example.ir", first_name="من", mobiles=["09121234567"])
    make_customer("b@example.ir", first_name="دیگری", mobiles=["09121234567"])
    login("a@example.ir")
    assert "data-duplicate" not in client.get(f"/customers/{mine}").get_data(as_text=True)
