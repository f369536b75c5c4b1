"""Portal sign-in with a one-time code: SMS and email, expiry, attempts, no enumeration, limits."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.database import utcnow
from core.extensions import db
from core.messaging import MessageLog
from core.portal import SESSION_KEY
from core.portal.models import PortalCode
from tests.core.portal.helpers import (
    MOBILE,
    ask_code,
    enter_code,
    make_customer,
    portal_sign_in,
    sent_code,
)


def test_sign_in_with_a_code_sent_by_sms(app, client):
    customer_id = make_customer(app)
    response = ask_code(client, "۰۹۱۲ ۳۴۵ ۶۷۸۹")
    assert response.headers["Location"].startswith("/portal/code")
    code = sent_code(app)
    with app.app_context():
        row = db.session.scalar(select(PortalCode))
        assert (row.customer_id, row.channel, row.destination) == (customer_id, "sms", MOBILE)
        assert code not in row.code_hash and len(row.code_hash) == 64
        delta = row.expires_at.replace(tzinfo=None) - row.created_at.replace(tzinfo=None)
        assert delta == timedelta(minutes=10)
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = enter_code(client, persian)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    home = client.get("/portal/")
    assert "مریم احمدی" in home.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session[SESSION_KEY] == customer_id
        assert "_user_id" not in session  # not a Flask-Login user: no seat
    # a code works once
    client.post("/portal/sign-out", data={"csrf_token": _csrf(client)})
    assert client.get("/portal/").status_code == 302
    ask_code(client, "09123456789")
    with app.app_context():
        assert db.session.scalar(select(func.count(PortalCode.id))) == 2


def _csrf(client):
    from tests.conftest import csrf_from

    return csrf_from(client.get("/portal/"))


def test_sign_in_with_a_code_sent_by_email(app, client):
    make_customer(app)
    portal_sign_in(app, client, "Maryam@Example.ir", to="maryam@example.ir")
    assert "مریم احمدی" in client.get("/portal/").get_data(as_text=True)


def test_an_unknown_address_gets_the_same_answer_and_nothing_is_sent(app, client):
    make_customer(app)
    known = ask_code(client, "09123456789")
    other = app.test_client()
    unknown = ask_code(other, "09350000000")
    assert (known.status_code, known.headers["Location"]) == (
        unknown.status_code, unknown.headers["Location"])
    known_page = client.get("/portal/code").get_data(as_text=True)
    unknown_page = other.get("/portal/code").get_data(as_text=True)
    assert known_page.replace("+989123456789", "X").split("csrf")[0] == \
        unknown_page.replace("+989350000000", "X").split("csrf")[0]
    with app.app_context():
        assert db.session.scalar(select(func.count(MessageLog.id))) == 1
        assert db.session.scalar(select(func.count(PortalCode.id))) == 1
    # a wrong code is answered the same for both
    assert enter_code(other, "123456").status_code == enter_code(client, "123456").status_code \
        == 401


def test_a_malformed_address_is_refused_with_a_clear_message(app, client):
    response = ask_code(client, "not a number")
    assert response.status_code == 200
    assert b"is-invalid" in response.data and "۰۹۱۲ ۳۴۵ ۶۷۸۹" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(MessageLog.id))) == 0


def test_an_expired_code_is_refused(app, client):
    make_customer(app)
    ask_code(client)
    code = sent_code(app)
    with app.app_context():
        row = db.session.scalar(select(PortalCode))
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert enter_code(client, code).status_code == 401
    assert client.get("/portal/").status_code == 302


def test_codes_expire_after_ten_minutes(app):
    from core.portal.codes import issue_code, verify_code

    make_customer(app)
    with app.test_request_context():
        start = utcnow()
        issue_code("sms", MOBILE, now=start)
        db.session.commit()
        code = sent_code(app)
        assert verify_code(MOBILE, code, now=start + timedelta(minutes=10, seconds=1)) is None
        assert verify_code(MOBILE, code, now=start + timedelta(minutes=9)) is not None
        assert verify_code(MOBILE, code, now=start + timedelta(minutes=9)) is None  # used


def test_five_wrong_codes_burn_the_code(app, client):
    make_customer(app)
    ask_code(client)
    code = sent_code(app)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        assert enter_code(client, wrong).status_code == 401
    response = enter_code(client, wrong)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/sign-in"
    with app.app_context():
        row = db.session.scalar(select(PortalCode))
        assert row.attempts == 5 and row.used_at is not None
    # even the right code no longer works, in this session or another
    with client.session_transaction() as session:
        session["portal_pending"] = {"channel": "sms", "destination": MOBILE, "tries": 0}
    assert enter_code(client, code).status_code == 401


def test_a_new_code_replaces_the_previous_one(app, client):
    make_customer(app)
    ask_code(client)
    first = sent_code(app)
    ask_code(client)
    second = sent_code(app)
    if first != second:
        assert enter_code(client, first).status_code == 401
    assert enter_code(client, second).status_code == 302


@pytest.mark.parametrize("app_overrides", [{"CRM_PORTAL_LIMIT_DESTINATION": "2 per minute"}])
def test_codes_to_one_destination_are_rate_limited(app, client):
    make_customer(app)
    assert ask_code(client, "09123456789").status_code == 302
    assert ask_code(app.test_client(), "+989123456789").status_code == 302
    assert ask_code(app.test_client(), "0912 345 6789").status_code == 429
    assert ask_code(client, "09120000000").status_code == 302  # another destination


@pytest.mark.parametrize("app_overrides", [{"CRM_PORTAL_LIMIT_IP": "2 per minute"}])
def test_code_requests_from_one_address_are_rate_limited(app, client):
    assert ask_code(client, "09120000001").status_code == 302
    assert ask_code(client, "09120000002").status_code == 302
    assert ask_code(client, "09120000003").status_code == 429


def test_portal_pages_need_a_portal_customer_not_a_user(app, client, make_user, login):
    make_user()
    login()
    response = client.get("/portal/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/portal/sign-in?next=/portal/")


def test_sign_in_goes_back_to_the_page_asked_for(app, client):
    make_customer(app)
    page = client.get("/portal/sign-in?next=/portal/")
    from tests.conftest import csrf_from

    response = client.post("/portal/sign-in?next=/portal/", data={
        "address": "09123456789", "csrf_token": csrf_from(page)})
    assert "next=" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    response = client.post(response.headers["Location"], data={
        "code": sent_code(app), "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/portal/"
    # an outside address is never a target
    with client.session_transaction() as session:
        session.pop(SESSION_KEY)


def test_the_portal_is_rtl_in_persian_and_ltr_in_english(app, client):
    make_customer(app)
    page = client.get("/portal/sign-in").get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in page and "bootstrap.rtl.min.css" in page
    from tests.conftest import csrf_from

    client.post("/auth/language/en", data={"next": "/portal/sign-in",
                                          "csrf_token": csrf_from(client.get("/portal/sign-in"))})
    page = client.get("/portal/sign-in").get_data(as_text=True)
    assert 'lang="en" dir="ltr"' in page and "Send me a code" in page
    portal_sign_in(app, client)
    home = client.get("/portal/").get_data(as_text=True)
    assert "Welcome, مریم احمدی" in home and "data-portal-sign-out" in home


def test_old_codes_are_purged(app):
    from core.portal.codes import issue_code, purge_codes

    make_customer(app)
    with app.test_request_context():
        start = utcnow()
        issue_code("sms", MOBILE, now=start - timedelta(days=2))
        issue_code("sms", MOBILE, now=start)
        db.session.commit()
        assert purge_codes(now=start) == 1
        assert db.session.scalar(select(func.count(PortalCode.id))) == 1
