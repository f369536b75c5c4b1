"""The merge wizard and its API: side by side, chosen values, scope, the loser's old address."""

from datetime import date

import pytest
from sqlalchemy import select

from core.audit import AuditLog
from core.auth.models import Role
from core.customers.merge import add_merge_handler
from core.customers.models import Customer, Note
from core.extensions import db
from tests.conftest import csrf_from
from tests.core.customers.conftest import bearer, national_code


@pytest.fixture
def admin(make_user, login):
    make_user("admin@example.ir", name="مدیر")
    return login("admin@example.ir")


@pytest.fixture
def two(app, make_customer):
    a = make_customer(first_name="سارا", last_name="احمدی", mobiles=["09121112233"],
                      birthday=date(1990, 3, 21), address={"city": "تبریز"})
    b = make_customer(first_name="سارا", last_name="احمدي", mobiles=["09121112233"],
                      emails=["sara@example.ir"], national_code=national_code(),
                      birthday=date(1990, 3, 22), tags=["VIP"])
    with app.test_request_context():
        from core.customers.services import add_note

        add_note(db.session.get(Customer, b), "پیگیری تلفنی")
        db.session.commit()
    return a, b


def test_the_wizard_shows_both_side_by_side_and_the_chosen_values_win(app, admin, two):
    a, b = two
    show = admin.get(f"/customers/{a}").get_data(as_text=True)
    assert f'data-merge-with="{b}"' in show  # from the 360 page's duplicate warning
    page = admin.get(f"/customers/merge?a={a}&b={b}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-side="{a}"' in html and f'data-side="{b}"' in html
    assert 'data-field="last_name"' in html and 'data-field="birthday"' in html
    assert 'data-field="display_name"' not in html  # follows the names on both
    assert 'data-field="first_name"' not in html  # the same on both
    assert "۱۳۶۹/۰۱/۰۱" in html and "۱۳۶۹/۰۱/۰۲" in html  # Jalali birthdays
    assert "پیگیری" not in html and 'data-counts' in html
    response = admin.post("/customers/merge", data={
        "csrf_token": csrf_from(page), "a": a, "b": b, "survivor": a,
        "keep-last_name": b, "keep-birthday": b, "keep-national_code": b,
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/customers/{a}")
    with app.app_context():
        customer = db.session.get(Customer, a)
        assert customer.display_name == "سارا احمدي"
        assert customer.birthday == date(1990, 3, 22)
        assert customer.national_code == national_code()
        assert customer.values("email") == ["sara@example.ir"]
        assert [t.name for t in customer.tags] == ["VIP"]
        assert db.session.get(Customer, b) is None
    after = admin.get(f"/customers/{a}").get_data(as_text=True)
    assert "پیگیری تلفنی" in after  # the loser's note on the survivor's timeline
    assert 'data-entry="merge"' in after


def test_the_losers_old_address_opens_the_survivor(app, admin, two):
    a, b = two
    page = admin.get(f"/customers/merge?a={a}&b={b}")
    admin.post("/customers/merge", data={"csrf_token": csrf_from(page), "a": a, "b": b,
                                         "survivor": b})
    response = admin.get(f"/customers/{a}")
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/customers/{b}")
    assert admin.get(f"/customers/{a}/edit").headers["Location"].endswith(
        f"/customers/{b}/edit")
    assert admin.get("/customers/999999").status_code == 404


def test_choosing_by_number_mobile_or_code(admin, two):
    a, b = two
    page = admin.get(f"/customers/merge?a={a}").get_data(as_text=True)
    assert "data-merge-pick" in page
    assert admin.get(f"/customers/merge?a=۰{a}&b={national_code()}").status_code == 200
    ambiguous = admin.get(f"/customers/merge?a={a}&b=09121112233")
    assert ambiguous.status_code == 404 and "data-error" in ambiguous.get_data(as_text=True)


def test_a_failing_handler_shows_a_clear_message_and_changes_nothing(app, admin, two):
    a, b = two

    def fails(survivor_id, loser_id):
        raise RuntimeError("points ledger is closed")

    add_merge_handler(app, fails)
    page = admin.get(f"/customers/merge?a={a}&b={b}")
    response = admin.post("/customers/merge", data={"csrf_token": csrf_from(page), "a": a,
                                                    "b": b, "survivor": a},
                          follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "points ledger is closed" in html and "هیچ تغییری اعمال نشد" in html  # nothing changed
    with app.app_context():
        assert db.session.get(Customer, b) is not None
        assert db.session.scalar(select(Note.customer_id)) == b


@pytest.fixture
def agents(app, make_user, login, make_customer):
    """Two agents with record scope "own" who may merge."""
    make_user("a@example.ir", role="agent")
    make_user("b@example.ir", role="agent")
    with app.app_context():
        role = db.session.query(Role).filter_by(name="agent").one()
        role.permissions = [*role.permissions, "customers.merge"]
        db.session.commit()
    mine = make_customer("a@example.ir", first_name="من")
    mine_too = make_customer("a@example.ir", first_name="من")
    theirs = make_customer("b@example.ir", first_name="دیگری")
    login("a@example.ir")
    return mine, mine_too, theirs


def test_an_agent_cannot_merge_another_agents_customer(app, client, agents, make_token):
    mine, mine_too, theirs = agents
    assert client.get(f"/customers/merge?a={mine}&b={theirs}").status_code == 404
    page = client.get(f"/customers/merge?a={mine}&b={mine_too}")
    assert page.status_code == 200
    response = client.post("/customers/merge", data={"csrf_token": csrf_from(page),
                                                      "a": mine, "b": theirs})
    assert response.status_code == 404
    token = bearer(make_token("a@example.ir"))
    api = client.post(f"/api/v1/customers/{mine}/merge", json={"other_id": theirs},
                      headers=token)
    assert api.status_code == 404
    api = client.post(f"/api/v1/customers/{theirs}/merge", json={"other_id": mine},
                      headers=token)
    assert api.status_code == 404
    with app.app_context():
        assert db.session.get(Customer, theirs) is not None
        assert db.session.get(Customer, mine) is not None


def test_the_api_merges_with_chosen_values(app, admin, two, make_token):
    a, b = two
    token = bearer(make_token("admin@example.ir"))
    bad = admin.post(f"/api/v1/customers/{a}/merge",
                     json={"other_id": b, "keep": {"salary": b}}, headers=token)
    assert bad.status_code == 422
    response = admin.post(f"/api/v1/customers/{a}/merge",
                          json={"other_id": b, "keep": {"birthday": b}}, headers=token)
    assert response.status_code == 200, response.data
    assert response.json["birthday"] == "1990-03-22" and response.json["id"] == a
    with app.app_context():
        assert db.session.get(Customer, b) is None
        entry = db.session.scalars(select(AuditLog).where(
            AuditLog.action == "customer.merge")).one()
        assert entry.detail["kept"]["birthday"] == b and entry.user_id is not None


def test_merging_needs_the_merge_permission(app, client, make_user, login, make_customer):
    make_user("a@example.ir", role="agent")
    a = make_customer("a@example.ir", first_name="یک")
    b = make_customer("a@example.ir", first_name="دو")
    login("a@example.ir")
    assert client.get(f"/customers/merge?a={a}&b={b}").status_code == 403
    assert client.get("/customers/duplicates").status_code == 403
    assert "data-merge-start" not in client.get(f"/customers/{a}").get_data(as_text=True)


def test_two_people_merging_the_same_pair_at_once(app, make_user, make_customer, make_token):
    import threading
    import time

    make_user("admin@example.ir")
    a = make_customer(first_name="هم‌زمان", mobiles=["09120000001"])
    b = make_customer(first_name="هم‌زمان", mobiles=["09120000001"])
    token = bearer(make_token("admin@example.ir"))
    add_merge_handler(app, lambda survivor_id, loser_id: time.sleep(0.3))
    barrier = threading.Barrier(2)
    results = []

    def merge(into, other):
        client = app.test_client()
        barrier.wait()
        results.append(client.post(f"/api/v1/customers/{into}/merge",
                                   json={"other_id": other}, headers=token))

    threads = [threading.Thread(target=merge, args=args) for args in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([200, 404], [200, 422]), [r.data for r in results]
    with app.app_context():
        from core.customers.merge import CustomerMerge

        assert db.session.query(Customer).count() == 1
        assert db.session.query(CustomerMerge).count() == 1
