"""Sign-in: argon2id, rate limits per IP and per account, TOTP, language per user."""

import pyotp
import pytest
from sqlalchemy import select

from core.auth.models import User
from core.extensions import db
from tests.conftest import csrf_from


def _post_login(client, email, password, **extra):
    page = client.get("/auth/login")
    return client.post("/auth/login", data={
        "email": email, "password": password, "csrf_token": csrf_from(page), **extra,
    }, environ_base=extra.pop("environ_base", None) or {})


def test_passwords_are_stored_with_argon2id(app, make_user):
    make_user(password="a long enough secret")
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.password_hash.startswith("$argon2id$")
        assert "a long enough secret" not in user.password_hash


def test_wrong_password_is_refused_without_saying_which_part(client, make_user):
    make_user()
    response = _post_login(client, "admin@example.ir", "wrong")
    assert response.status_code == 401
    assert client.get("/").status_code == 302  # still signed out


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user()
    response = client.post("/auth/login", data={
        "email": "admin@example.ir", "password": "correct horse battery"})
    assert response.status_code == 400


def test_deactivated_user_cannot_sign_in(app, client, make_user):
    make_user()
    with app.app_context():
        from core.admin.services import deactivate_user

        deactivate_user(db.session.execute(select(User)).scalar_one())
    assert _post_login(client, "admin@example.ir", "correct horse battery").status_code == 401


def test_open_redirect_is_not_followed(client, make_user):
    make_user()
    page = client.get("/auth/login")
    response = client.post("/auth/login?next=//evil.example/x", data={
        "email": "admin@example.ir", "password": "correct horse battery",
        "csrf_token": csrf_from(page)})
    assert response.headers["Location"] == "/"


@pytest.fixture
def app_overrides():
    return {"CRM_LOGIN_LIMIT_ACCOUNT": "3 per minute", "CRM_LOGIN_LIMIT_IP": "5 per minute"}


def test_failed_logins_are_throttled_per_account_then_per_ip(client, make_user):
    make_user()
    for _ in range(3):
        assert _post_login(client, "admin@example.ir", "wrong").status_code == 401
    # the account is locked for a while, even with the right password
    assert _post_login(client, "admin@example.ir", "correct horse battery").status_code == 429
    # other accounts from the same address still get a try, then the whole IP is throttled
    assert _post_login(client, "other@example.ir", "wrong").status_code == 401
    statuses = [_post_login(client, f"u{i}@example.ir", "wrong").status_code for i in range(2)]
    assert statuses[-1] == 429
    # another address is not affected
    other_ip = {"REMOTE_ADDR": "10.9.8.7"}
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={
        "email": "new@example.ir", "password": "x", "csrf_token": csrf_from(page)},
        environ_base=other_ip)
    assert response.status_code == 401


def test_totp_is_asked_after_the_password(app, client, make_user):
    make_user()
    secret = pyotp.random_base32()
    with app.app_context():
        db.session.execute(select(User)).scalar_one().totp_secret = secret
        db.session.commit()
    response = _post_login(client, "admin@example.ir", "correct horse battery")
    assert response.headers["Location"].startswith("/auth/totp")
    assert client.get("/").status_code == 302  # not signed in yet
    page = client.get("/auth/totp")
    bad = client.post("/auth/totp", data={"code": "000000", "csrf_token": csrf_from(page)})
    assert bad.status_code == 401
    code = pyotp.TOTP(secret).now()
    persian = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    ok = client.post("/auth/totp", data={"code": persian, "csrf_token": csrf_from(page)})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200


def test_language_is_stored_on_the_user(app, client, make_user, login):
    make_user()
    login()
    page = client.get("/")
    assert 'lang="fa"' in page.get_data(as_text=True)
    assert 'dir="rtl"' in page.get_data(as_text=True)
    client.post("/auth/language/en", data={"csrf_token": csrf_from(page), "next": "/"})
    with app.app_context():
        assert db.session.execute(select(User.locale)).scalar_one() == "en"
    # a fresh session for the same user comes back in English
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/"))})
    login()
    html = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in html and 'dir="ltr"' in html
