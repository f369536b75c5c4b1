"""Sign in, optional TOTP, sign out, language switch, invitation acceptance."""

import hashlib

import pyotp
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select

from core.audit import record
from core.auth.forms import InviteAcceptForm, LoginForm, TotpForm
from core.auth.models import User
from core.auth.passwords import hash_password, needs_rehash, verify_password
from core.auth.permissions import authenticated, public
from core.database import utcnow
from core.extensions import db, limiter

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _account_key() -> str:
    return "login:" + request.form.get("email", "").strip().lower()


def _ip_limit():
    return current_app.config["CRM_LOGIN_LIMIT_IP"]


def _account_limit():
    return current_app.config["CRM_LOGIN_LIMIT_ACCOUNT"]


def _failed(response) -> bool:
    return response.status_code != 302


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("ui.dashboard")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed)
@public
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("ui.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = db.session.execute(select(User).where(func.lower(User.email) == email)).scalar()
        known = user is not None and user.active
        if not known or not verify_password(user.password_hash, form.password.data):
            record("auth.login_failed", target=email)
            db.session.commit()
            flash(_("Email or password is wrong."), "danger")
            return render_template("auth/login.html", form=form), 401
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(form.password.data)
        if user.totp_secret:
            session["crm_totp_user"] = user.id
            session["crm_totp_remember"] = bool(form.remember.data)
            db.session.commit()
            return redirect(url_for("auth.totp", next=request.args.get("next")))
        return _finish_login(user, bool(form.remember.data))
    return render_template("auth/login.html", form=form)


def _finish_login(user: User, remember: bool):
    login_user(user, remember=remember)
    user.last_login_at = utcnow()
    if user.locale:
        session["locale"] = user.locale
    record("auth.login", target=f"user:{user.id}", user_id=user.id)
    db.session.commit()
    return redirect(_safe_next(request.args.get("next")))


@bp.route("/totp", methods=["GET", "POST"])
@limiter.limit(_ip_limit, methods=["POST"], deduct_when=_failed)
@public
def totp():
    """Second step for users with a one-time-password app."""
    user_id = session.get("crm_totp_user")
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.totp_secret:
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        from core.i18n import to_latin_digits

        if pyotp.TOTP(user.totp_secret).verify(to_latin_digits(form.code.data), valid_window=1):
            session.pop("crm_totp_user", None)
            return _finish_login(user, session.pop("crm_totp_remember", False))
        record("auth.totp_failed", target=f"user:{user.id}", user_id=user.id)
        db.session.commit()
        flash(_("The code is wrong or has expired."), "danger")
        return render_template("auth/totp.html", form=form), 401
    return render_template("auth/totp.html", form=form)


@bp.route("/logout", methods=["POST"])
@authenticated
def logout():
    """Sign out."""
    record("auth.logout", target=f"user:{current_user.id}")
    db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
@public
def language(code: str):
    """Switch the interface language; stored on the user when signed in."""
    if code not in current_app.config["CRM_LANGUAGES"]:
        abort(404)
    session["locale"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


def invite_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept_invite(token: str):
    """An invited user sets their name and password."""
    user = db.session.execute(
        select(User).where(User.invite_token_hash == invite_token_hash(token))
    ).scalar()
    if user is None or not user.active:
        abort(404)
    form = InviteAcceptForm(name=user.name)
    if form.validate_on_submit():
        user.name = form.name.data.strip()
        user.password_hash = hash_password(form.password.data)
        user.invite_token_hash = None
        record("auth.invite_accepted", target=f"user:{user.id}", user_id=user.id)
        db.session.commit()
        return _finish_login(user, False)
    return render_template("auth/invite.html", form=form, user=user)
