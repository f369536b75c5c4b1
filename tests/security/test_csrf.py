"""CSRF: every endpoint that writes (POST/PUT/PATCH/DELETE, walked from the URL map) refuses a
request without a token with 400, except the API (bearer tokens, never the session cookie) and
the endpoints below, exempt by design because the sender cannot hold a CSRF token.
"""

import pytest
from flask_wtf.csrf import CSRFError

from tests.security.conftest import build_world
from tests.security.test_endpoint_matrix import fill

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# endpoint: why it takes writes without a CSRF token
EXEMPT_BY_DESIGN = {
    "messaging.sms_inbound": "the SMS gateway posts incoming messages (checked by its secret)",
    "messaging.sms_report": "the SMS gateway posts delivery reports (checked by its secret)",
    "marketing_forms.hosted": "public lead forms embedded on other sites (rate-limited, honeypot)",
    "marketing_tracking.unsubscribe": "one-click unsubscribe (RFC 8058) from mail clients; the "
                                      "link is signed",
    "marketing_tracking.sms_opt_out": "SMS opt-out link; the token is signed",
}
REFUSED = "X-Security-Suite-CSRF"


@pytest.fixture(scope="module")
def csrf_world(tmp_path_factory, request):
    def setup(app):
        @app.errorhandler(CSRFError)
        def mark(error):  # more specific than the 400 page: a CSRF refusal, not another 400
            return "csrf refused", 400, {REFUSED: "1"}

    return build_world(tmp_path_factory, request, demo=False, setup=setup)


def write_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(set(rule.methods or ()) & set(WRITE_METHODS)):
            yield rule, method


def test_the_csrf_check_is_on_in_this_app(csrf_world):
    assert csrf_world.app.config["WTF_CSRF_ENABLED"] is True


def test_every_form_endpoint_refuses_a_request_without_a_token(csrf_world):
    app = csrf_world.app
    refused, exempt, wrong = set(), set(), []
    for rule, method in write_rules(app):
        url = fill(rule)
        for who in ("admin", "anonymous"):
            client = csrf_world.principals[who].client
            response = client.open(url, method=method, data={"name": "x"})
            if response.headers.get(REFUSED):
                assert response.status_code == 400
                refused.add(rule.endpoint)
            else:
                exempt.add(rule.endpoint)
                if response.status_code >= 500:
                    wrong.append(f"{who} {method} {url}: {response.status_code}")
    api = {e for e in exempt if app.url_map._rules_by_endpoint[e][0].rule.startswith("/api/")}
    assert exempt - api == set(EXEMPT_BY_DESIGN)
    assert not refused & exempt, "answered with and without the CSRF check"
    assert len(refused) > 150
    assert not wrong


def test_the_api_is_exempt_because_it_never_accepts_the_session_cookie(csrf_world):
    """A signed-in browser's cookie cannot write through the API: no bearer token → 401."""
    client = csrf_world.principals["admin"].client
    response = client.post("/api/v1/customers", json={"display_name": "از سایت دیگر"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_from_the_page_is_accepted(csrf_world):
    """The refusal above is the token check, not something else: with the token it works."""
    from tests.conftest import csrf_from

    client = csrf_world.principals["admin"].client
    page = client.get("/customers/new")
    token = csrf_from(page)
    assert client.post("/customers/views", data={"name": "x"}).headers.get(REFUSED) == "1"
    answer = client.post("/customers/views", data={"name": "x", "csrf_token": token})
    assert answer.headers.get(REFUSED) is None
    assert answer.status_code < 500
