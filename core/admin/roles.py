"""Role and team rules: custom roles from declared permissions, record scopes, teams."""

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from core.admin.services import AdminError
from core.auth.models import SCOPES, Role, Team, User
from core.extensions import db

# Core areas that group permissions and scopes; modules are named by their manifest title.
CORE_AREA_TITLES = {"core": _l("General"), "customers": _l("Customers"),
                    "analytics": _l("Analytics"), "admin": _l("Administration"), "api": _l("API")}


def area_title(name: str) -> str:
    """What people call a permission group or scoped area (its technical name as a last resort)."""
    from core.modules import registry

    if name in CORE_AREA_TITLES:
        return str(CORE_AREA_TITLES[name])
    manifest = registry().installed.get(name)
    return str(manifest.title) if manifest else name


def scoped_modules(app: Flask | None = None) -> list[str]:
    """Modules whose records carry an owner/team, so a role gets own/team/all there."""
    from core.modules import registry

    reg = registry(app)
    return ["customers", *[n for n in reg.loaded if reg.manifest(n).scoped]]


def permission_groups(app: Flask | None = None) -> list[tuple[str, list[tuple[str, str]]]]:
    """Declared permissions grouped by module prefix: [(group, [(permission, label)])]."""
    from core.modules import all_permissions

    groups: dict[str, list[tuple[str, str]]] = {}
    for perm, label in all_permissions(app).items():
        groups.setdefault(perm.split(".")[0], []).append((perm, str(label)))
    return [(group, sorted(items)) for group, items in groups.items()]


def users_with_role(role: Role) -> int:
    return db.session.execute(
        select(func.count(User.id)).where(User.role_id == role.id)
    ).scalar_one()


def save_role(role: Role | None, *, name: str, permissions: list[str], scopes: dict[str, str],
              default_scope: str = "own") -> Role:
    """Create or change a custom role; unknown permissions or scopes are refused. Commits."""
    from core.modules import all_permissions

    name = name.strip()
    if role is not None and role.name == "admin":
        raise AdminError(_("The admin role always has every permission and cannot be changed."))
    if role is None or not role.builtin:
        if not name:
            raise AdminError(_("A role needs a name."))
        clash = db.session.execute(select(Role).where(func.lower(Role.name) == name.lower())
                                   ).scalar()
        if clash is not None and clash is not role:
            raise AdminError(_("There is already a role called %(name)s.", name=name))
    known = all_permissions()
    unknown = sorted(set(permissions) - set(known))
    if unknown:
        raise AdminError(_("Unknown permission(s): %(names)s.", names=", ".join(unknown)))
    bad = {m: s for m, s in scopes.items() if s not in SCOPES}
    if bad or default_scope not in SCOPES:
        raise AdminError(_("A record scope must be one of own, team or all."))
    if role is None:
        role = Role(name=name, builtin=False)
        db.session.add(role)
    elif not role.builtin:
        role.name = name
    if not role.builtin:  # built-in manager/agent keep their permissions; only scopes change
        role.permissions = sorted(set(permissions))
        role.default_scope = default_scope
    role.scopes = dict(scopes)
    db.session.commit()
    return role


def delete_role(role: Role) -> None:
    """Delete a custom role nobody has. Commits."""
    if role.builtin:
        raise AdminError(_("Built-in roles cannot be deleted."))
    count = users_with_role(role)
    if count:
        raise AdminError(_("%(count)d user(s) still have the role %(name)s; give them another "
                           "role first.", count=count, name=role.name))
    db.session.delete(role)
    db.session.commit()


def save_team(team: Team | None, name: str) -> Team:
    """Create or rename a team. Commits."""
    name = name.strip()
    if not name:
        raise AdminError(_("A team needs a name."))
    clash = db.session.execute(select(Team).where(Team.name == name)).scalar()
    if clash is not None and clash is not team:
        raise AdminError(_("There is already a team called %(name)s.", name=name))
    if team is None:
        team = Team(name=name)
        db.session.add(team)
    else:
        team.name = name
    db.session.commit()
    return team


def team_members(team: Team) -> list[User]:
    return list(db.session.execute(
        select(User).where(User.team_id == team.id).order_by(User.name)).scalars())


def delete_team(team: Team) -> None:
    """Delete a team without members. Commits."""
    count = len(team_members(team))
    if count:
        raise AdminError(_("The team %(name)s still has %(count)d member(s).",
                           name=team.name, count=count))
    db.session.delete(team)
    db.session.commit()


def set_team_members(team: Team, user_ids: set[int]) -> None:
    """Make the team's members exactly ``user_ids`` (others leave the team). Commits."""
    for user in team_members(team):
        if user.id not in user_ids:
            user.team_id = None
    if user_ids:
        for user in db.session.execute(select(User).where(User.id.in_(user_ids))).scalars():
            user.team_id = team.id
    db.session.commit()
