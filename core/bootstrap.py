"""First-run state: the deployment id and the built-in roles."""

import uuid

from sqlalchemy import select

from core.auth.models import Role
from core.database import get_setting, set_setting, utcnow
from core.extensions import db
from core.tax import ensure_default_tax_rates

BUILTIN_ROLES = {
    # name: (permissions, default scope, per-module scopes)
    "admin": (["*"], "all"),
    "manager": (
        ["core.dashboard", "customers.view", "customers.edit", "customers.import",
         "customers.merge", "analytics.view", "admin.modules", "api.tokens", "*.view",
         "*.work", "*.manage"],  # a manager does the team's work too, and approves it
        "team",
    ),
    "agent": (["core.dashboard", "customers.view", "customers.edit", "*.view", "*.work"], "own"),
}


def deployment_id() -> str | None:
    return get_setting("deployment.id")


def ensure_deployment() -> str:
    """Create the deployment id and trial start on first run; return the id."""
    ident = deployment_id()
    if ident is None:
        ident = uuid.uuid4().hex
        set_setting("deployment.id", ident)
        set_setting("deployment.initialised_at", utcnow().isoformat())
    ensure_builtin_roles()
    ensure_default_tax_rates()
    db.session.commit()
    return ident


def expand_permissions(patterns: list[str], known: dict[str, str]) -> list[str]:
    """Turn "*.view"-style patterns into the concrete permissions the modules declare."""
    result = []
    for pattern in patterns:
        if pattern == "*" or not pattern.startswith("*."):
            result.append(pattern)
            continue
        suffix = pattern[1:]
        result.extend(
            p for p in known
            if p.endswith(suffix) and not p.startswith(("admin.", "customers.", "core."))
        )
    return sorted(set(result))


def ensure_builtin_roles() -> None:
    """Create or refresh admin, manager and agent with the permissions modules declare now."""
    from core.modules import all_permissions

    known = all_permissions()
    for name, (patterns, scope) in BUILTIN_ROLES.items():
        role = db.session.execute(select(Role).where(Role.name == name)).scalar()
        perms = expand_permissions(patterns, known)
        if role is None:
            db.session.add(Role(name=name, builtin=True, permissions=perms, default_scope=scope,
                                scopes={}))
        elif role.permissions != perms:
            role.permissions = perms
