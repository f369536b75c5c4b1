"""Customer services: validation, canonical contacts, Persian-aware search, duplicates."""

from datetime import date

import pytest
from flask_login import login_user
from hypothesis import given, settings
from hypothesis import strategies as st

from core.customers import services
from core.customers.custom_fields import define_field
from core.customers.models import Customer
from core.customers.search import search
from core.extensions import db
from core.i18n import normalize
from tests.core.customers.conftest import national_code


@pytest.fixture
def app_overrides():
    """English messages, so assertions name the reasons in one language."""
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def ctx(app, make_user):
    """A request context with a signed-in admin (scope all)."""
    from core.auth.models import User

    make_user("admin@example.ir")
    with app.test_request_context():
        login_user(db.session.query(User).filter_by(email="admin@example.ir").one())
        yield


def _found(query, **filters) -> list[str]:
    stmt, _sort, columns = search(query, filters)
    return [c.display_name for c in db.session.execute(stmt.order_by(*columns)).scalars()]


def test_create_person_canonicalises_contacts_and_fires_the_event(ctx):
    from core.events import customer_created

    seen = []

    def listener(_sender, customer):
        seen.append(customer.id)

    customer_created.connect(listener)
    try:
        customer = services.create_customer(
            first_name="علی", last_name="کریمی", mobiles=["۰۹۱۲ ۳۴۵ ۶۷۸۹", "+98 935 000 1122"],
            emails=["Ali@Example.IR"], national_code="۰۰۱۲۳۴۵۶۷" + national_code()[-1],
            birthday=date(1991, 8, 3), tags="VIP، نمایشگاه")
        db.session.commit()
    finally:
        customer_created.disconnect(listener)
    assert seen == [customer.id]
    assert customer.display_name == "علی کریمی"
    assert customer.values("mobile") == ["+989123456789", "+989350001122"]
    assert customer.mobile == "+989123456789" and customer.email == "ali@example.ir"
    assert customer.national_code == national_code()
    assert sorted(t.name for t in customer.tags) == ["VIP", "نمایشگاه"]
    assert "09123456789" in customer.search_key and "ali@example.ir" in customer.search_key


def test_invalid_national_code_is_refused_with_the_reason(ctx):
    bad = national_code()[:-1] + str((int(national_code()[-1]) + 1) % 10)
    with pytest.raises(services.CustomerError) as caught:
        services.create_customer(first_name="رضا", national_code=bad, mobiles=["12345"])
    assert "check digit is wrong" in caught.value.errors["national_code"]
    assert "not an Iranian mobile number" in caught.value.errors["mobiles"]
    assert db.session.query(Customer).count() == 0


def test_a_person_needs_a_name_and_an_organisation_a_legal_name(ctx):
    with pytest.raises(services.CustomerError) as caught:
        services.create_customer(kind="person")
    assert "last_name" in caught.value.errors
    with pytest.raises(services.CustomerError) as caught:
        services.create_customer(kind="organisation", national_id="123")
    assert set(caught.value.errors) == {"legal_name", "national_id"}


def test_search_finds_arabic_letters_typed_in_persian_and_a_mobile_in_any_format(ctx):
    services.create_customer(first_name="علی", last_name="كريمي", mobiles=["09123456789"])
    services.create_customer(first_name="مریم", last_name="احمدی", mobiles=["09350001122"],
                             emails=["maryam@example.ir"])
    db.session.commit()
    assert _found("علی کریمی") == ["علی كريمي"]
    assert _found("کریمی") == ["علی كريمي"]
    assert _found("۰۹۱۲ ۳۴۵ ۶۷۸۹") == ["علی كريمي"]
    assert _found("+98 912 345 6789") == ["علی كريمي"]
    assert _found("MARYAM@example.ir") == ["مریم احمدی"]
    assert _found("۱۱۲۲") == ["مریم احمدی"]  # part of a number
    assert sorted(_found("")) == ["علی كريمي", "مریم احمدی"]
    assert _found("حسین") == []


def test_search_by_national_code_tags_and_kind(ctx):
    services.create_customer(first_name="سارا", national_code=national_code(), tags=["VIP"])
    services.create_customer(kind="organisation", legal_name="شرکت نمونه")
    db.session.commit()
    assert _found("۰۰۱۲-۳۴۵۶۷" + national_code()[-1]) == ["سارا"]
    vip = services.tags_named(["VIP"])[0]
    assert _found("", tag=[vip.id]) == ["سارا"]
    assert _found("", kind="organisation") == ["شرکت نمونه"]


def test_search_key_follows_updates(ctx):
    customer = services.create_customer(first_name="نیما", mobiles=["09120000001"])
    db.session.commit()
    services.update_customer(customer, last_name="رضایی", mobiles=["09120000002"])
    db.session.commit()
    assert _found("رضایی") == ["نیما رضایی"]  # a derived display name follows the names
    services.update_customer(customer, display_name="آقای رضایی")
    services.update_customer(customer, first_name="نیمای")
    db.session.commit()
    assert _found("نیمای") == ["آقای رضایی"]  # a typed display name stays
    assert _found("09120000001") == [] and _found("09120000002") == ["آقای رضایی"]


def test_find_duplicates_by_mobile_email_and_national_code(ctx):
    first = services.create_customer(first_name="الف", mobiles=["09121111111"],
                                     emails=["a@example.ir"], national_code=national_code())
    db.session.commit()
    assert services.find_duplicates_for(mobile="۰۹۱۲ ۱۱۱ ۱۱۱۱") == [first]
    assert services.find_duplicates_for(email="A@Example.ir") == [first]
    assert services.find_duplicates_for(national_code=national_code()) == [first]
    assert services.find_duplicates_for(mobile="09121111111", exclude_id=first.id) == []
    assert services.find_duplicates_for(mobile="not a number") == []


def test_custom_fields_are_checked_against_their_definitions(ctx):
    define_field("size", "Company size", "choice", ["small", "large"])
    define_field("since", "Customer since", "date")
    define_field("employees", "Employees", "number")
    customer = services.create_customer(
        kind="organisation", legal_name="پیوند",
        custom={"size": "small", "since": "۱۴۰۲/۰۱/۰۱", "employees": "۱٬۲۰۰"})
    assert customer.custom == {"size": "small", "since": "2023-03-21", "employees": 1200}
    with pytest.raises(services.CustomerError) as caught:
        services.update_customer(customer, custom={"size": "huge", "colour": "red"})
    assert set(caught.value.errors) == {"custom.size", "custom.colour"}


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="علیكريميکیی\u200c ۰۱۲9", max_size=20))
def test_normalised_query_matches_its_own_key(text):
    assert normalize(normalize(text)) == normalize(text)


def test_only_a_person_works_at_an_organisation(ctx):
    person = services.create_customer(first_name="علی")
    org = services.create_customer(kind="organisation", legal_name="پیوند")
    link = services.affiliate(person, org, "مدیر")
    assert services.affiliate(person, org, "مدیرعامل").id == link.id
    assert services.affiliations_of(person) == [("مدیرعامل", org)]
    assert services.affiliations_of(org) == [("مدیرعامل", person)]
    with pytest.raises(services.CustomerError):
        services.affiliate(org, person)
