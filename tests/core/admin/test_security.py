"""TOTP enrolment on the account page, then sign-in asks for the code; admin can reset it."""

import re

import pyotp

from tests.conftest import csrf_from


def test_enrol_totp_then_sign_in_needs_a_code(app, client, make_user, login):
    user_id = make_user()
    login()
    page = client.get("/account/security")
    text = page.get_data(as_text=True)
    secret = re.search(r"data-totp-secret>([A-Z2-7]+)<", text).group(1)
    assert "otpauth://totp/" in text and "<svg" in text
    wrong = client.post("/account/security", data={"code": "000000",
                                                   "csrf_token": csrf_from(page)})
    assert wrong.status_code == 422
    ok = client.post("/account/security", data={"code": pyotp.TOTP(secret).now(),
                                                 "csrf_token": csrf_from(page)})
    assert ok.status_code == 302
    assert 'data-totp="on"' in client.get("/account/security").get_data(as_text=True)
    other = app.test_client()
    form = other.get("/auth/login")
    step = other.post("/auth/login", data={"email": "admin@example.ir",
                                           "password": "correct horse battery",
                                           "csrf_token": csrf_from(form)})
    assert "/auth/totp" in step.headers["Location"]
    # the admin resets it for a user who lost the phone
    edit = client.get(f"/admin/users/{user_id}")
    client.post(f"/admin/users/{user_id}/reset-totp", data={"csrf_token": csrf_from(edit)})
    with app.app_context():
        from core.auth.models import User
        from core.extensions import db

        assert db.session.get(User, user_id).totp_secret is None
