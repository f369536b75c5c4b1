"""Every GET endpoint (walked from the URL map) × every principal × module active/inactive.

The expected answer is derived, never hand-listed: the permission an endpoint declares
(``require_permission`` stores it, ``declared_permission`` reads it), the role's permissions in
the database, the user's seats and the module that owns the endpoint's blueprint.

- anonymous: redirect to the sign-in page (UI) / 401 (API), except ``@public`` endpoints;
- a signed-in user without the permission: 403 (UI and API) — before any row is looked up, so a
  missing id (the URLs are filled with 1 or a demo row) still answers 403, never 404;
- a user without a seat in the endpoint's module: the "no seat" page (UI) / 403 (API);
- an inactive (unlicensed) module: the "not licensed" page, 403 (UI) / 404 (API), to anyone
  signed in; an anonymous visitor learns nothing of the license: the sign-in page, or 404 for
  the module's ``@public`` pages;
- otherwise the gate let the request through: no 401/403, no redirect to sign-in, no 5xx
  (a 404 for a missing row is fine).

Every HTML answer on the way must carry the Content-Security-Policy, without 'unsafe-inline'
in script-src or style-src.
"""

from urllib.parse import urlsplit

import pytest
from werkzeug.routing import AnyConverter, IntegerConverter

from core.auth.permissions import AUTHENTICATED, PUBLIC, declared_permission
from tests.security.conftest import ALL_MODULES, PRINCIPALS

# String parameters of the URL map filled with something sensible (anything else: "x").
STRING_VALUES = {"code": "en", "action": "start", "table": "months"}
# Endpoints whose GET is allowed to answer 403 after the gate passed, and why.
GATE_PASSED_403 = {
    "admin.index": "open to any signed-in user by declaration; answers 403 itself when the user "
                   "holds no admin.* permission (no card to show)",
}


def fill(rule) -> str:
    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0] if hasattr(converter, "items") else "x"
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        else:
            values[name] = STRING_VALUES.get(name, "x")
    # build through the rule itself so every converter formats its own value
    _domain, path = rule.build(values, append_unknown=False)
    return path


def get_rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        if "GET" not in (rule.methods or ()):
            continue
        yield rule


def module_of(app, endpoint: str) -> str | None:
    from core.modules import registry

    top = endpoint.split(".")[0]
    return registry(app).blueprint_module.get(top)


def role_permissions(app, user_id: int) -> set:
    from core.auth.models import User
    from core.extensions import db

    with app.app_context():
        return set(db.session.get(User, user_id).role.permissions or [])


def seats(app, user_id: int) -> set:
    from core.auth.models import User
    from core.extensions import db

    with app.app_context():
        return set(db.session.get(User, user_id).seat_modules)


def expectation(world, who, rule, module, active) -> str:
    """What the gate must answer: public, login, missing, denied, no_seat, not_licensed or
    pass."""
    app = world.app
    permission = declared_permission(app.view_functions[rule.endpoint], "GET")
    api = rule.rule.startswith("/api/")
    if api and permission == PUBLIC:
        return "public"
    if api and who == "anonymous":
        return "login"  # the bearer check runs first on /api/
    if module and not active:
        if who == "anonymous":
            return "missing" if permission == PUBLIC else "login"
        return "not_licensed"
    if permission == PUBLIC:
        return "public"
    if who == "anonymous":
        return "login"
    if module and module not in world.seats[who]:
        return "no_seat"
    perms = world.permissions[who]
    if permission == AUTHENTICATED or "*" in perms or permission in perms:
        return "pass"
    return "denied"


# endpoint: why its page may carry inline styles (never scripts)
INLINE_STYLE_ALLOWED = {
    "marketing.campaign_preview_email": "the email's own HTML in the preview frame: inline "
                                        "styles as mail clients need, no script, sandboxed",
}


def csp_problem(response, endpoint: str) -> str | None:
    if response.mimetype != "text/html":
        return None
    policy = response.headers.get("Content-Security-Policy")
    if not policy:
        return "HTML without a Content-Security-Policy"
    directives = {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";"))
                  if parts}
    if endpoint in INLINE_STYLE_ALLOWED and "'unsafe-inline'" in directives.get("style-src", []):
        locked = directives.get("default-src") == ["'none'"] and "script-src" not in directives
        return None if locked and "sandbox" in directives else "the preview is not locked down"
    for name in ("script-src", "style-src", "default-src"):
        if "'unsafe-inline'" in directives.get(name, []):
            return f"'unsafe-inline' in {name}"
    return None


def check(world, who, rule, url, expected) -> str | None:
    """None when the answer fits ``expected``, else a one-line description of the mismatch."""
    response = world.get(who, url)
    status = response.status_code
    api = url.startswith("/api/")
    location = urlsplit(response.headers.get("Location", "")).path
    templates = list(world.templates)
    found = f"{status} {location or ''} {templates[-1:] if templates else ''}".strip()
    problem = csp_problem(response, rule.endpoint)
    if problem:
        pass
    elif status >= 500:
        problem = "server error"
    elif expected == "login":
        ok = status == 401 if api else (status == 302 and location == "/auth/login")
        problem = None if ok else "expected the sign-in (UI 302 /auth/login, API 401)"
    elif expected == "not_licensed":
        ok = status == 404 if api else (
            status == 403 and "errors/not_licensed.html" in templates)
        problem = None if ok else "expected not licensed (UI 403 page, API 404)"
    elif expected == "missing":
        problem = None if status == 404 else "expected 404 (a public page of an inactive module)"
    elif expected == "no_seat":
        ok = status == 403 and (api or "errors/no_seat.html" in templates)
        problem = None if ok else "expected no seat (403)"
    elif expected == "denied":
        ok = status == 403 and (api or "error.html" in " ".join(templates))
        problem = None if ok else "expected 403 (no permission)"
    elif expected == "pass":
        refused = status in (401, 403) and rule.endpoint not in GATE_PASSED_403
        to_login = status == 302 and location == "/auth/login"
        problem = "refused although allowed" if refused or to_login else None
    if problem:
        return f"{who:9} {rule.endpoint} {url}: {problem}; got {found}"
    return None


def walk(world, active_modules, only_inactive=False):
    failures = []
    checked = 0
    for rule in get_rules(world.app):
        module = module_of(world.app, rule.endpoint)
        active = module is None or module in active_modules
        if only_inactive and active:
            continue
        url = fill(rule)
        for who in PRINCIPALS:
            expected = expectation(world, who, rule, module, active)
            failure = check(world, who, rule, url, expected)
            checked += 1
            if failure:
                failures.append(failure)
    return checked, failures


@pytest.fixture(scope="module")
def matrix_world(world):
    world.seats = {who: seats(world.app, p.user_id) if p.user_id else set()
                   for who, p in world.principals.items()}
    world.permissions = {who: role_permissions(world.app, p.user_id) if p.user_id else set()
                         for who, p in world.principals.items()}
    return world


def test_every_get_endpoint_answers_each_principal_as_its_permission_says(matrix_world):
    checked, failures = walk(matrix_world, set(ALL_MODULES))
    assert checked > 5 * 150  # the walk really covered the URL map
    assert not failures, f"{len(failures)} of {checked} answers are wrong:\n" + "\n".join(
        failures)


@pytest.mark.parametrize("licensed", [
    ("sales", "service"),  # marketing, loyalty and accounting_link left out
    ("marketing",),  # sales (and so loyalty and accounting_link, which need it) and service
], ids=["without-marketing-loyalty-accounting", "without-sales-service"])
def test_an_unlicensed_module_answers_not_licensed_to_everyone_signed_in(matrix_world, licensed):
    from core.modules import registry

    matrix_world.install(licensed)
    try:
        with matrix_world.app.test_request_context():
            active = registry(matrix_world.app).active()
        assert active == set(licensed)
        checked, failures = walk(matrix_world, active, only_inactive=True)
    finally:
        matrix_world.install(ALL_MODULES)
    assert checked > 5 * 20
    assert not failures, f"{len(failures)} of {checked} answers are wrong:\n" + "\n".join(
        failures)
