"""Personal access tokens: create, find by secret, revoke, and the scope rules."""

import hashlib
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from core.api.models import ApiToken, aware
from core.auth.models import User
from core.auth.permissions import AUTHENTICATED
from core.database import utcnow
from core.extensions import db

TOKEN_PREFIX = "pvd_"  # nosec B105  # a public prefix, not a secret
BASIC_SCOPES = ("read", "write")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOUCH_EVERY_SECONDS = 60


class TokenError(ValueError):
    """A token cannot be created as asked; the message says why."""


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a token secret (secrets are random, so no salt or stretching is needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes, known_permissions) -> list[str]:
    """Validate scopes: "read", "write" and permission names; read or write is required."""
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    cleaned = list(dict.fromkeys(s.strip() for s in scopes if s and s.strip()))
    unknown = [s for s in cleaned if s not in BASIC_SCOPES and s not in known_permissions]
    if unknown:
        raise TokenError(_("Unknown scope(s): %(names)s. Use read, write or permission names.",
                           names=", ".join(unknown)))
    if not any(s in BASIC_SCOPES for s in cleaned):
        raise TokenError(_("A token needs the read or the write scope."))
    return cleaned


def create_token(user: User, name: str = "", scopes=("read",),
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it and the secret (shown once, never stored)."""
    from core.modules import all_permissions

    if not user.active:
        raise TokenError(_("%(email)s is deactivated.", email=user.email))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip()[:120], prefix=secret[:12],
                     token_hash=hash_secret(secret),
                     scopes=parse_scopes(scopes, all_permissions()), expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken) -> bool:
    """Revoke a token at once; returns whether it was still usable."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def user_tokens(user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    return list(db.session.execute(stmt).scalars())


def find_token(secret: str) -> ApiToken | None:
    """The token with this secret, whatever its state."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    # One query for the token, its user, role, team and seats (the module gate reads them).
    stmt = (select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.seats))
            .where(ApiToken.token_hash == hash_secret(secret)))
    return db.session.execute(stmt).unique().scalar()


def token_refusal(token: ApiToken | None) -> str:
    """Why this token cannot authenticate a request ("" when it can)."""
    if token is None:
        return _("This token is not known.")
    if token.revoked_at is not None:
        return _("This token was revoked.")
    if token.expired:
        return _("This token expired.")
    if not token.user.active:
        return _("The user of this token is deactivated.")
    return ""


def scope_refusal(token: ApiToken, method: str, permission: str) -> str:
    """Why the token's scopes do not cover this request ("" when they do)."""
    scopes = set(token.scopes or ())
    if method not in SAFE_METHODS and "write" not in scopes:
        return _("This token may only read; create a token with the write scope to change data.")
    if method in SAFE_METHODS and not scopes & set(BASIC_SCOPES):
        return _("This token has neither the read nor the write scope.")
    limited = scopes - set(BASIC_SCOPES)
    needed = [p for p in permission.split(",") if p != AUTHENTICATED]
    if limited and any(p not in limited for p in needed):
        return _("This token is limited to %(scopes)s and cannot use %(permission)s.",
                 scopes=", ".join(sorted(limited)), permission=", ".join(needed))
    return ""


def touch(token: ApiToken) -> None:
    """Record the token's use, at most once a minute (a short transaction of its own)."""
    now = utcnow()
    last = aware(token.last_used_at)
    if last is not None and (now - last).total_seconds() < TOUCH_EVERY_SECONDS:
        return
    token_id = token.id
    db.session.commit()  # end the read so the update starts a write transaction of its own
    db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    db.session.commit()
