"""Bearer tokens: valid, wrong, revoked, expired, deactivated; scopes; no session cookie."""

import hashlib
from datetime import timedelta

from sqlalchemy import select

from core.api.models import ApiToken
from core.database import utcnow
from core.extensions import db
from tests.conftest import csrf_from, recorded_statements
from tests.core.api.conftest import assert_problem, bearer


def test_valid_token_authenticates_as_its_user(client, make_user, make_token):
    make_user("agent@example.ir", role="agent", seats=["sales"])
    secret = make_token("agent@example.ir", scopes="read")
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 200
    me = response.get_json()
    assert me["email"] == "agent@example.ir"
    assert me["role"] == "agent"
    assert me["seats"] == ["sales"]
    assert "customers.view" in me["permissions"] and "admin.users" not in me["permissions"]
    assert me["token_scopes"] == ["read"]
    assert "Set-Cookie" not in response.headers


def test_a_token_request_reads_token_user_and_seats_in_one_query(app, client, make_user,
                                                                  make_token):
    make_user("agent@example.ir", role="agent", seats=["sales", "service"])
    secret = make_token("agent@example.ir", scopes="read")
    client.get("/api/v1/me", headers=bearer(secret))  # the first use is recorded (a write)
    with recorded_statements(app) as seen:
        me = client.get("/api/v1/me", headers=bearer(secret)).get_json()
    assert me["seats"] == ["sales", "service"]
    auth = [s for s in seen if any(t in s for t in ("FROM core_api_token", "FROM core_user",
                                                    "FROM core_seat"))]
    assert len(auth) == 1 and "core_seat" in auth[0]


def test_secret_is_stored_only_as_a_hash(app, make_user, make_token):
    make_user()
    secret = make_token()
    assert secret.startswith("pvd_") and len(secret) > 40
    with app.app_context():
        token = db.session.execute(select(ApiToken)).scalar_one()
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.prefix == secret[:12]
        stored = [str(getattr(token, c.key)) for c in ApiToken.__table__.columns]
        assert not any(secret in value for value in stored)


def test_missing_and_wrong_tokens_get_401_with_challenge(client, make_user, make_token):
    make_user()
    secret = make_token()
    missing = assert_problem(client.get("/api/v1/me"), 401)
    assert "Bearer" in missing["detail"]
    for wrong in (secret[:-2] + "xx", "pvd_nothing", "not-a-token"):
        response = client.get("/api/v1/me", headers=bearer(wrong))
        body = assert_problem(response, 401)
        assert body["detail"] == "This token is not known."
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="peyvand"')
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    basic = client.get("/api/v1/me", headers={"Authorization": f"Basic {secret}"})
    assert_problem(basic, 401)


def test_revoked_expired_and_deactivated(app, client, make_user, make_token):
    make_user()
    make_user("gone@example.ir", role="agent")
    revoked = make_token()
    expired = make_token(expires_at=utcnow() - timedelta(seconds=1))
    later = make_token(expires_at=utcnow() + timedelta(days=1))
    deactivated = make_token("gone@example.ir", scopes="read")
    with app.app_context():
        from core.api.tokens import find_token, revoke_token
        from core.auth.models import User

        assert revoke_token(find_token(revoked))
        db.session.execute(select(User).where(User.email == "gone@example.ir")).scalar_one()\
            .active = False
        db.session.commit()
    for secret, reason in ((revoked, "This token was revoked."),
                           (expired, "This token expired."),
                           (deactivated, "The user of this token is deactivated.")):
        body = assert_problem(client.get("/api/v1/me", headers=bearer(secret)), 401)
        assert body["detail"] == reason
    assert client.get("/api/v1/me", headers=bearer(later)).status_code == 200


def test_session_cookie_is_not_accepted_by_the_api(client, make_user, login):
    make_user()
    login()
    assert client.get("/").status_code == 200  # signed in for the UI
    assert_problem(client.get("/api/v1/me"), 401)


def test_read_token_cannot_write(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    read = make_token(scopes="read")
    body = assert_problem(client.post("/api/v1/apitest/points", headers=bearer(read),
                                      json={"customer": "c1", "points": 5}), 403)
    assert "write scope" in body["detail"]
    assert client.get("/api/v1/apitest/points", headers=bearer(read)).status_code == 200
    write = make_token(scopes="write")
    response = client.post("/api/v1/apitest/points", headers=bearer(write),
                           json={"customer": "c1", "points": 5})
    assert response.status_code == 201, response.data


def test_permission_scopes_limit_a_token(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user()
    limited = make_token(scopes="read,customers.view")
    assert client.get("/api/v1/me", headers=bearer(limited)).status_code == 200
    assert client.get("/api/v1/apitest/points", headers=bearer(limited)).status_code == 200
    body = assert_problem(client.get("/api/v1/apitest/admin-only", headers=bearer(limited)), 403)
    assert "admin.settings" in body["detail"]


def test_role_permissions_still_apply(api_app, make_user, make_token):
    client = api_app.test_client()
    make_user("agent@example.ir", role="agent")
    secret = make_token("agent@example.ir")
    assert_problem(client.get("/api/v1/apitest/admin-only", headers=bearer(secret)), 403)


def test_last_used_is_recorded(app, client, make_user, make_token):
    make_user()
    secret = make_token()
    client.get("/api/v1/me", headers=bearer(secret))
    with app.app_context():
        token = db.session.execute(select(ApiToken)).scalar_one()
        assert token.last_used_at is not None


def test_tokens_page_shows_secret_once_and_revokes(app, client, make_user, login):
    make_user()
    login()
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    created = client.post("/account/tokens/", data={
        "name": "sync", "read": "y", "write": "y", "csrf_token": csrf_from(page)})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = html.split("<code class=\"user-select-all fs-6\" dir=\"ltr\">")[1].split("<")[0]
    assert secret.startswith("pvd_")
    again = client.get("/account/tokens/").get_data(as_text=True)
    assert secret not in again and secret[:12] in again and "Read, Write" in again
    api = app.test_client()
    assert api.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    with app.app_context():
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    revoked = client.post(f"/account/tokens/{token_id}/revoke",
                          data={"csrf_token": csrf_from(page)})
    assert revoked.status_code == 302
    assert_problem(api.get("/api/v1/me", headers=bearer(secret)), 401)


def test_tokens_page_refuses_bad_scopes(client, make_user, login):
    make_user()
    login()
    page = client.get("/account/tokens/")
    response = client.post("/account/tokens/", data={
        "name": "x", "permissions": "nope.nothing", "csrf_token": csrf_from(page)})
    assert response.status_code == 400
    assert b"Unknown scope(s): nope.nothing" in response.data


def test_other_users_tokens_cannot_be_revoked(app, client, make_user, make_token, login):
    make_user()
    make_user("other@example.ir", role="manager")
    make_token("other@example.ir")
    login()
    page = client.get("/account/tokens/")
    with app.app_context():
        token_id = db.session.execute(select(ApiToken.id)).scalar_one()
    response = client.post(f"/account/tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 404


def test_cli_creates_a_working_token(app, runner, make_user):
    make_user("cli@example.ir", role="manager")
    result = runner.invoke(args=["crm", "token", "create", "--email", "cli@example.ir",
                                 "--name", "n8n", "--scopes", "read,write"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert secret.startswith("pvd_")
    me = app.test_client().get("/api/v1/me", headers=bearer(secret)).get_json()
    assert me["email"] == "cli@example.ir" and me["token_scopes"] == ["read", "write"]
    listed = runner.invoke(args=["crm", "token", "list", "--email", "cli@example.ir"])
    assert secret[:12] in listed.output and "active" in listed.output
    bad = runner.invoke(args=["crm", "token", "create", "--email", "nobody@example.ir"])
    assert bad.exit_code != 0 and "no user with email" in bad.output
    revoke = runner.invoke(args=["crm", "token", "revoke", "--email", "cli@example.ir",
                                 secret[:12]])
    assert revoke.exit_code == 0, revoke.output
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
