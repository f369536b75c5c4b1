"""Personal access tokens page: list, create (the secret is shown once) and revoke."""

from datetime import timedelta

from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.api.forms import ActionForm, TokenForm
from core.api.models import ApiToken
from core.api.tokens import TokenError, create_token, revoke_token, user_tokens
from core.auth.permissions import has_permission, require_permission
from core.database import utcnow
from core.extensions import db

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


def _grantable() -> dict[str, str]:
    """Permissions the user's role grants (a token can be limited to some of them), labelled."""
    from core.modules import all_permissions

    return {name: str(label) for name, label in sorted(all_permissions().items())
            if has_permission(name)}


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    response = make_response(render_template(
        "api/tokens.html", form=form, action=ActionForm(), secret=secret,
        tokens=user_tokens(current_user.id), permissions=_grantable()), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@require_permission("api.tokens")
def index():
    """The signed-in user's API tokens."""
    return _page(TokenForm())


@bp.route("/", methods=["POST"])
@require_permission("api.tokens")
def create():
    """Create a token and show its secret this one time."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    expires = utcnow() + timedelta(days=form.expires_days.data) if form.expires_days.data else None
    try:
        _token, secret = create_token(current_user, form.name.data, form.scopes(), expires)
    except TokenError as exc:
        form.permissions.errors = [str(exc)]
        return _page(form, status=400)
    db.session.commit()
    return _page(TokenForm(formdata=None), secret=secret, status=201)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@require_permission("api.tokens")
def revoke(token_id: int):
    """Revoke one of the user's tokens at once."""
    if not ActionForm().validate_on_submit():
        abort(400)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if revoke_token(token):
        db.session.commit()
        flash(_("Token %(name)s revoked.", name=token.name or token.prefix), "success")
    return redirect(url_for("api_tokens.index"))
