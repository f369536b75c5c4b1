"""Sign-in brute force is throttled per IP and per account; session cookie flags; the CSP.

(The CSP of every HTML page the URL map serves is checked by the endpoint matrix; here are the
policy itself and the pages outside it: sign-in, errors, throttling.)
"""

import uuid

import pytest

from config import from_environment
from tests.conftest import csrf_from
from tests.security.conftest import PASSWORD, build_world

IP_LIMIT, ACCOUNT_LIMIT = 6, 3


@pytest.fixture(scope="module")
def login_world(tmp_path_factory, request):
    return build_world(tmp_path_factory, request, demo=False,
                       CRM_LOGIN_LIMIT_IP=f"{IP_LIMIT} per minute",
                       CRM_LOGIN_LIMIT_ACCOUNT=f"{ACCOUNT_LIMIT} per 15 minutes")


def unique_ip() -> str:
    """The limiter's memory is shared by the apps of one process: a fresh address per test."""
    value = uuid.uuid4().int
    return f"10.{value % 250}.{value // 250 % 250}.{value // 62500 % 250 + 1}"


def attempt(app, ip, email, password):
    client = app.test_client()
    environ = {"REMOTE_ADDR": ip}
    page = client.get("/auth/login", environ_base=environ)
    return client.post("/auth/login", environ_base=environ, data={
        "email": email, "password": password, "csrf_token": csrf_from(page)})


def new_user(app, role="agent") -> str:
    from core.admin.services import create_or_update_user

    email = f"u{uuid.uuid4().hex[:10]}@security.example.ir"
    with app.app_context():
        create_or_update_user(email=email, password=PASSWORD, role_name=role, locale="en")
    return email


def assert_throttled(world, response):
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "errors/error.html" in world.templates


def test_one_account_is_throttled_whatever_address_the_guesses_come_from(login_world):
    app = login_world.app
    email = new_user(app)
    for _ in range(ACCOUNT_LIMIT):
        assert attempt(app, unique_ip(), email, "wrong guess").status_code == 401
    del login_world.templates[:]
    # the next try is refused before the password is even checked, the right one included
    assert_throttled(login_world, attempt(app, unique_ip(), email, PASSWORD))
    # another account is not affected
    assert attempt(app, unique_ip(), new_user(app), PASSWORD).status_code == 302


def test_one_address_is_throttled_whatever_accounts_it_guesses(login_world):
    app = login_world.app
    ip = unique_ip()
    for _ in range(IP_LIMIT):
        answer = attempt(app, ip, f"{uuid.uuid4().hex[:8]}@example.ir", "wrong guess")
        assert answer.status_code == 401
    del login_world.templates[:]
    assert_throttled(login_world, attempt(app, ip, new_user(app), PASSWORD))
    assert attempt(app, unique_ip(), new_user(app), PASSWORD).status_code == 302


def test_successful_sign_ins_do_not_use_up_the_limit(login_world):
    app = login_world.app
    ip, email = unique_ip(), new_user(app)
    for _ in range(IP_LIMIT + 2):
        assert attempt(app, ip, email, PASSWORD).status_code == 302


def cookie_flags(response, name: str) -> set[str]:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return {part.strip().split("=")[0].lower() + (
                "=" + part.split("=", 1)[1].strip().lower() if part.strip().lower()
                .startswith("samesite") else "") for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie set")


def sign_in_response(app, remember=False):
    client = app.test_client()
    page = client.get("/auth/login")
    data = {"email": new_user(app), "password": PASSWORD, "csrf_token": csrf_from(page)}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 302
    return response


def test_the_session_cookie_is_httponly_and_samesite_lax(login_world):
    flags = cookie_flags(sign_in_response(login_world.app), "session")
    assert {"httponly", "samesite=lax"} <= flags
    assert "secure" not in flags  # a LAN install over plain HTTP keeps working


def test_crm_secure_cookies_makes_every_cookie_secure(login_world):
    app = login_world.app
    secure = from_environment({"CRM_SECURE_COOKIES": "1"})
    saved = {key: app.config.get(key) for key in secure}
    app.config.update(secure)
    try:
        response = sign_in_response(app, remember=True)
    finally:
        app.config.update(saved)
    assert {"httponly", "samesite=lax", "secure"} <= cookie_flags(response, "session")
    assert {"httponly", "samesite=lax", "secure"} <= cookie_flags(response, "remember_token")


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";") if d.strip())}


def test_the_csp_allows_no_inline_script_or_style(login_world):
    from core.security import CSP

    client = login_world.app.test_client()
    answers = {
        "sign-in": client.get("/auth/login"),
        "404": client.get("/no/such/page"),
        "405": client.put("/healthz"),
    }
    for name, response in answers.items():
        assert response.mimetype == "text/html", name
        assert response.headers["Content-Security-Policy"] == CSP, name
        directives = csp_directives(response)
        for directive in ("script-src", "style-src", "default-src"):
            assert directives[directive] == ["'self'"], (name, directive)
        assert directives["object-src"] == ["'none'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
