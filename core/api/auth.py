"""Bearer-token authentication for /api/ requests; the session cookie is never used there."""

from flask import current_app, g, request
from flask_babel import gettext as _

from core.api import problem
from core.api.tokens import find_token, scope_refusal, token_refusal, touch
from core.auth.permissions import PUBLIC, request_permission

REALM = "peyvand"


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def _unauthorized(detail: str, invalid: bool):
    response = problem(401, _("Not signed in"), detail)
    challenge = f'Bearer realm="{REALM}"'
    if invalid:
        quoted = detail.replace('"', "'")
        challenge += f', error="invalid_token", error_description="{quoted}"'
    response.headers["WWW-Authenticate"] = challenge
    return response


def authenticate_api_request():
    """before_request (runs first): the token's user becomes ``current_user`` for /api/ paths."""
    if not is_api_request():
        return None
    g._login_user = current_app.login_manager.anonymous_user()  # never the session's user
    permission = request_permission()
    if permission is None or permission == PUBLIC:
        return None  # undeclared endpoints are refused by the permission gate
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return _unauthorized(_("Send a personal access token as 'Authorization: Bearer "
                               "<token>'. The session cookie is not accepted by the API."),
                             invalid=False)
    token = find_token(secret.strip())
    reason = token_refusal(token)
    if reason:
        return _unauthorized(reason, invalid=True)
    refusal = scope_refusal(token, request.method, permission)
    if refusal:
        return problem(403, _("Not allowed"), refusal)
    touch(token)
    g._login_user = token.user
    g.crm_api_token = token
    return None


def current_token():
    """The token that authenticated this API request, if any."""
    return g.get("crm_api_token")
