"""``flask crm token``: create, list and revoke personal access tokens."""

from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from core.cli import crm

token_cli = AppGroup("token", help="Personal API tokens.")
crm.add_command(token_cli)


def _user(email: str):
    from core.auth.models import User
    from core.extensions import db

    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar()
    if user is None:
        raise click.ClickException(f"no user with email {email}")
    return user


@token_cli.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", default="cli", show_default=True)
@click.option("--scopes", default="read", show_default=True,
              help="Comma-separated: read, write and/or permission names.")
@click.option("--expires-days", type=click.IntRange(min=1), default=None)
def token_create(email, name, scopes, expires_days):
    """Print a new API token for a user (shown only this once)."""
    from core.api.tokens import TokenError, create_token
    from core.database import utcnow
    from core.extensions import db

    expires = utcnow() + timedelta(days=expires_days) if expires_days else None
    try:
        _token, secret = create_token(_user(email), name, scopes, expires)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(secret)


@token_cli.command("list")
@click.option("--email", required=True)
def token_list(email):
    """List a user's tokens (prefix, name, scopes, state)."""
    from core.api.tokens import user_tokens

    for token in user_tokens(_user(email).id):
        state = "revoked" if token.revoked_at else "expired" if token.expired else "active"
        click.echo(f"{token.prefix}…  {token.name}  {','.join(token.scopes)}  {state}")


@token_cli.command("revoke")
@click.option("--email", required=True)
@click.argument("prefix")
def token_revoke(email, prefix):
    """Revoke the user's token whose secret starts with PREFIX."""
    from core.api.tokens import revoke_token, user_tokens
    from core.extensions import db

    found = [t for t in user_tokens(_user(email).id) if prefix.startswith(t.prefix)
             or t.prefix.startswith(prefix)]
    if len(found) != 1:
        raise click.ClickException(f"{len(found)} tokens match {prefix!r}; give more characters")
    revoke_token(found[0])
    db.session.commit()
    click.echo(f"revoked {found[0].prefix}…")
