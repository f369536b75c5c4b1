"""Customer list filters: RFM segment, custom fields of every type, priority sort, extra
columns; the same filters in /api/v1/customers and the export, always within record scope."""

import csv
import io
import re
from datetime import date

import pytest

from core.analytics.models import CustomerScore
from core.database import utcnow
from core.extensions import db
from tests.core.customers.conftest import bearer


def ids_in(response) -> list[int]:
    """The customer ids of a list page, in order."""
    assert response.status_code == 200, response.data[:500]
    return [int(i) for i in re.findall(r'data-customer="(\d+)"', response.get_data(as_text=True))]


def api_ids(client, headers, **args) -> list[int]:
    response = client.get("/api/v1/customers", query_string=args, headers=headers)
    assert response.status_code == 200, response.data[:500]
    return [c["id"] for c in response.get_json()["items"]]


def add_score(app, customer_id: int, segment: str, priority: float | None, r=3, f=3, m=3):
    with app.app_context():
        db.session.add(CustomerScore(
            customer_id=customer_id, recency_days=10, frequency=2, monetary=5_000_000,
            r_score=r, f_score=f, m_score=m, segment=segment, p_alive=0.8,
            expected_purchases_90d=1.5, predicted_value_90d=2_000_000.0, priority=priority,
            computed_at=utcnow()))
        db.session.commit()


@pytest.fixture
def fields(app):
    from core.customers.custom_fields import define_field

    with app.app_context():
        define_field("industry", "صنعت", "text")
        define_field("staff", "کارکنان", "number")
        define_field("since", "مشتری از", "date")
        define_field("size", "اندازه", "choice", ["کوچک", "بزرگ"])
        define_field("vip", "ویژه", "bool")
        db.session.commit()


@pytest.fixture
def people(make_user, make_customer, fields):
    """Four customers of one owner (admin) with different custom values."""
    make_user("admin@example.ir", name="مدیر")
    return {
        "steel": make_customer("admin@example.ir", kind="organisation", legal_name="فولاد",
                               custom={"industry": "فولاد سازي", "staff": 1200,
                                       "since": "2023-03-21", "size": "بزرگ", "vip": True}),
        "dairy": make_customer("admin@example.ir", kind="organisation", legal_name="لبنیات",
                               custom={"industry": "لبنیات", "staff": 40,
                                       "since": "2024-04-03", "size": "کوچک", "vip": False}),
        "shop": make_customer("admin@example.ir", kind="organisation", legal_name="فروشگاه",
                              custom={"industry": "خرده فروشی", "staff": 8,
                                      "since": "2024-09-01", "size": "کوچک"}),
        "blank": make_customer("admin@example.ir", first_name="بی‌نام"),
    }


@pytest.fixture
def admin(people, login):
    return login("admin@example.ir")


def test_segment_filter_returns_only_that_segment(app, admin, people, make_token):
    add_score(app, people["steel"], "champions", 90.0, r=5, f=5, m=5)
    add_score(app, people["dairy"], "at_risk", 40.0, r=1, f=3, m=4)
    add_score(app, people["shop"], "champions", 70.0, r=5, f=4, m=4)
    assert sorted(ids_in(admin.get("/customers/?segment=champions"))) == sorted(
        [people["steel"], people["shop"]])
    assert ids_in(admin.get("/customers/?segment=at_risk")) == [people["dairy"]]
    assert ids_in(admin.get("/customers/?segment=lost")) == []
    both = ids_in(admin.get("/customers/?segment=champions&segment=at_risk"))
    assert sorted(both) == sorted([people["steel"], people["shop"], people["dairy"]])
    # the segment names are offered in the reader's language
    assert "قهرمانان" in admin.get("/customers/").get_data(as_text=True)

    token = bearer(make_token("admin@example.ir"))
    assert sorted(api_ids(admin, token, segment="champions")) == sorted(
        [people["steel"], people["shop"]])
    assert admin.get("/api/v1/customers?segment=nope", headers=token).status_code == 422


@pytest.mark.parametrize(("args", "expected"), [
    ({"custom.industry": "فولاد سازی"}, ["steel"]),  # ي stored, ی typed
    ({"custom.industry": "فروش"}, ["shop"]),
    ({"custom.staff.min": "۴۰"}, ["steel", "dairy"]),
    ({"custom.staff.max": "40"}, ["dairy", "shop"]),
    ({"custom.staff.min": "10", "custom.staff.max": "۱٬۰۰۰"}, ["dairy"]),
    ({"custom.since.from": "۱۴۰۳/۰۱/۱۵"}, ["dairy", "shop"]),  # 1403/01/15 = 2024-04-03
    ({"custom.since.from": "1402/01/01", "custom.since.to": "1403/01/14"}, ["steel"]),
    ({"custom.size": "کوچک"}, ["dairy", "shop"]),
    ({"custom.vip": "1"}, ["steel"]),
    ({"custom.vip": "0"}, ["dairy", "shop", "blank"]),  # never answered counts as no
])
def test_custom_field_filters_by_type(admin, people, args, expected):
    assert sorted(ids_in(admin.get("/customers/", query_string=args))) == sorted(
        people[name] for name in expected)


def test_custom_field_filters_in_the_api_take_iso_or_jalali_dates(admin, people, make_token):
    token = bearer(make_token("admin@example.ir"))
    assert api_ids(admin, token, **{"custom.since.from": "2024-04-03",
                                    "custom.since.to": "2024-05-01"}) == [people["dairy"]]
    assert api_ids(admin, token, **{"custom.since.to": "۱۴۰۲/۱۲/۲۹"}) == [people["steel"]]
    assert sorted(api_ids(admin, token, **{"custom.size": "کوچک", "kind": "organisation"})) \
        == sorted([people["dairy"], people["shop"]])
    bad = admin.get("/api/v1/customers", query_string={"custom.staff.min": "زیاد",
                                                       "custom.nope": "x"}, headers=token)
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"custom.staff.min", "custom.nope"}


def test_a_bad_filter_is_left_out_with_a_warning(admin, people):
    html = admin.get("/customers/", query_string={"custom.staff.min": "زیاد",
                                                 "custom.size": "متوسط"}).get_data(as_text=True)
    assert 'data-filter-error="custom.staff.min"' in html
    assert 'data-filter-error="custom.size"' in html
    assert len(re.findall(r'data-customer="', html)) == 4


def test_scope_still_applies_with_filters(app, client, make_user, make_customer, login,
                                          make_token, fields):
    from core.auth.models import Role

    make_user("a@example.ir", role="agent")
    other = make_user("b@example.ir", role="agent")
    with app.app_context():  # agents who may export, still with scope "own"
        role = db.session.query(Role).filter_by(name="agent").one()
        role.permissions = [*role.permissions, "customers.import"]
        db.session.commit()
    mine = make_customer("a@example.ir", first_name="مال من", custom={"size": "بزرگ"})
    theirs = make_customer("b@example.ir", first_name="مال دیگری", custom={"size": "بزرگ"})
    add_score(app, mine, "loyal", 50.0)
    add_score(app, theirs, "loyal", 99.0)
    login("a@example.ir")
    for args in ({"segment": "loyal"}, {"custom.size": "بزرگ"}, {"sort": "-priority"},
                 {"segment": "loyal", "custom.size": "بزرگ", "sort": "-priority"}):
        assert ids_in(client.get("/customers/", query_string=args)) == [mine], args
    # an owner filter naming the other agent cannot reach their customers
    assert ids_in(client.get(f"/customers/?owner={other}")) == []
    token = bearer(make_token("a@example.ir"))
    assert api_ids(client, token, segment="loyal", **{"custom.size": "بزرگ"}) == [mine]
    assert api_ids(client, token, owner=other) == []
    export = client.get("/customers/export.csv?segment=loyal&sort=-priority")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert [int(r[0]) for r in rows[1:]] == [mine]


def test_sort_by_priority_puts_the_most_valuable_first_and_unscored_last(app, admin, people,
                                                                         make_token):
    add_score(app, people["dairy"], "loyal", 80.0)
    add_score(app, people["steel"], "champions", 95.5)
    add_score(app, people["shop"], "new", 10.0)
    expected = [people["steel"], people["dairy"], people["shop"], people["blank"]]
    response = admin.get("/customers/?sort=-priority")
    assert ids_in(response) == expected
    html = response.get_data(as_text=True)
    assert 'data-cell="priority">۹۵٫۵' in html  # sorting by priority shows the column
    # keyset pages follow the same order
    first = admin.get("/customers/?sort=-priority&size=2")
    assert ids_in(first) == expected[:2]
    after = re.search(r'href="[^"]*after=([^"&]+)', first.get_data(as_text=True)).group(1)
    assert ids_in(admin.get(f"/customers/?sort=-priority&size=2&after={after}")) == expected[2:]
    token = bearer(make_token("admin@example.ir"))
    assert api_ids(admin, token, sort="-priority") == expected


def test_custom_fields_and_segment_as_optional_columns(app, admin, people):
    add_score(app, people["steel"], "champions", 95.0)
    html = admin.get("/customers/?col=custom.since&col=custom.vip&col=segment&kind=organisation"
                     ).get_data(as_text=True)
    assert 'data-column="custom.since"' in html and 'data-column="segment"' in html
    row = html[html.index(f'data-customer="{people["steel"]}"'):]
    row = row[:row.index("</tr>")]
    assert "۱۴۰۲/۰۱/۰۱" in row and "بله" in row and "قهرمانان" in row
    plain = admin.get("/customers/").get_data(as_text=True)
    assert 'data-column="custom.since"' not in plain


def test_export_equals_the_filtered_view(app, admin, people):
    add_score(app, people["steel"], "champions", 95.0)
    add_score(app, people["dairy"], "champions", 60.0)
    add_score(app, people["shop"], "champions", 80.0)
    query = "segment=champions&custom.staff.min=5&kind=organisation&sort=-priority"
    listed = ids_in(admin.get(f"/customers/?{query}"))
    assert listed == [people["steel"], people["shop"], people["dairy"]]
    page = admin.get(f"/customers/?{query}").get_data(as_text=True)
    link = re.search(r'href="([^"]*export\.csv[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "custom.staff.min=5" in link and "sort=-priority" in link
    text = admin.get(link).get_data(as_text=True).lstrip("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert [int(r[0]) for r in rows] == listed
    record = dict(zip(header, rows[0], strict=True))
    assert record["کارکنان"] == "1200" and record["مشتری از"] == "1402/01/01"
    # a narrower view exports fewer rows, in the same order as the list
    narrower = "custom.size=کوچک&sort=-priority&segment=champions"
    text = admin.get(f"/customers/export.csv?{narrower}").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    assert [int(r[0]) for r in rows] == ids_in(admin.get(f"/customers/?{narrower}")) == [
        people["shop"], people["dairy"]]


def test_filter_dates_in_the_api_are_read_as_gregorian_only_when_they_are():
    from core.customers.search import _filter_date

    assert _filter_date("2024-04-03") == date(2024, 4, 3)
    assert _filter_date("1403-01-15") == date(2024, 4, 3)
    assert _filter_date("۱۴۰۳/۰۱/۱۵") == date(2024, 4, 3)


def test_api_filters_by_tag_name_or_id_owner_and_kind(app, make_user, make_customer,
                                                       make_token, client, fields):
    from core.customers.models import Tag

    owner = make_user("admin@example.ir", name="مدیر")
    other = make_user("other@example.ir", name="دیگری")
    vip = make_customer("admin@example.ir", first_name="ویژه", tags=["VIP", "تهران"])
    tehran = make_customer("other@example.ir", kind="organisation", legal_name="شرکت",
                           tags=["تهران"])
    plain = make_customer("admin@example.ir", first_name="ساده")
    with app.app_context():
        vip_tag = db.session.query(Tag).filter_by(name="VIP").one().id
    token = bearer(make_token("admin@example.ir"))
    assert api_ids(client, token, tag="VIP") == [vip]
    assert api_ids(client, token, tag=str(vip_tag)) == [vip]
    assert sorted(api_ids(client, token, tag="تهران")) == sorted([vip, tehran])
    assert api_ids(client, token, tag=["تهران", "VIP"]) == [vip]
    assert api_ids(client, token, tag="ناموجود") == []
    assert api_ids(client, token, owner=other) == [tehran]
    assert api_ids(client, token, kind="organisation") == [tehran]
    assert sorted(api_ids(client, token, owner=owner)) == sorted([vip, plain])
