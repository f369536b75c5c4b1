"""Admin pages for roles (permissions and record scope) and teams."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.admin import roles as rules
from core.admin.forms import ActionForm, RoleForm, TeamForm, TeamMembersForm
from core.admin.services import AdminError
from core.admin.views import bp
from core.auth.models import SCOPES, Role, Team, User
from core.auth.permissions import require_permission
from core.extensions import db


def _scope_choices():
    return [("own", _("Own records")), ("team", _("Team's records")), ("all", _("All records"))]


@bp.route("/roles")
@require_permission("admin.users")
def roles():
    """Built-in and custom roles with how many users have each."""
    all_roles = list(db.session.execute(select(Role).order_by(Role.builtin.desc(), Role.name))
                     .scalars())
    counts = {role.id: rules.users_with_role(role) for role in all_roles}
    return render_template("admin/roles.html", roles=all_roles, counts=counts,
                           action=ActionForm())


@bp.route("/roles/new", methods=["GET", "POST"], defaults={"role_id": None})
@bp.route("/roles/<int:role_id>", methods=["GET", "POST"])
@require_permission("admin.users")
def role_edit(role_id: int | None):
    """Create or edit a role: permissions grouped by module, record scope per module."""
    role = db.session.get(Role, role_id) if role_id else None
    if role_id and role is None:
        abort(404)
    if role is not None and role.name == "admin":
        flash(_("The admin role always has every permission and cannot be changed."), "info")
        return redirect(url_for("admin.roles"))
    form = RoleForm(data={"name": role.name, "permissions": role.permissions,
                          "default_scope": role.default_scope} if role else
                    {"default_scope": "own"})
    groups = rules.permission_groups()
    form.permissions.choices = [p for _group, items in groups for p in items]
    form.default_scope.choices = _scope_choices()
    modules = rules.scoped_modules()
    scopes = {m: request.form.get(f"scope_{m}") or (role.scope_for(m) if role else "own")
              for m in modules}
    status = 200
    if form.validate_on_submit():
        chosen = {m: s for m, s in scopes.items() if s in SCOPES}
        try:
            role = rules.save_role(role, name=form.name.data, permissions=form.permissions.data,
                                   scopes=chosen, default_scope=form.default_scope.data)
            flash(_("Role %(name)s saved.", name=role.label), "success")
            return redirect(url_for("admin.roles"))
        except AdminError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            status = 422
    elif request.method == "POST":
        status = 422
    titles = {name: rules.area_title(name) for name in [g for g, _items in groups] + modules}
    return render_template("admin/role_edit.html", role=role, form=form, groups=groups,
                           modules=modules, scopes=scopes, scope_choices=_scope_choices(),
                           titles=titles), status


@bp.route("/roles/<int:role_id>/delete", methods=["POST"])
@require_permission("admin.users")
def role_delete(role_id: int):
    """Delete a custom role that no user has."""
    role = db.session.get(Role, role_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        name = role.name
        rules.delete_role(role)
        flash(_("Role %(name)s deleted.", name=name), "success")
    except AdminError as exc:
        flash(str(exc), "danger")
    return redirect(url_for("admin.roles"))


@bp.route("/teams", methods=["GET", "POST"])
@require_permission("admin.users")
def teams():
    """Teams with their members; create a team."""
    form = TeamForm()
    status = 200
    if form.validate_on_submit():
        try:
            team = rules.save_team(None, form.name.data)
            flash(_("Team %(name)s created.", name=team.name), "success")
            return redirect(url_for("admin.teams"))
        except AdminError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            status = 422
    all_teams = list(db.session.execute(select(Team).order_by(Team.name)).scalars())
    members = {team.id: rules.team_members(team) for team in all_teams}
    return render_template("admin/teams.html", teams=all_teams, members=members, form=form,
                           action=ActionForm()), status


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@require_permission("admin.users")
def team_edit(team_id: int):
    """Rename a team and choose its members."""
    team = db.session.get(Team, team_id) or abort(404)
    form = TeamForm(data={"name": team.name})
    members = TeamMembersForm(data={"members": [u.id for u in rules.team_members(team)]})
    users = list(db.session.execute(select(User).where(User.active.is_(True))
                                    .order_by(User.name)).scalars())
    members.members.choices = [(u.id, f"{u.name} <{u.email}>") for u in users]
    status = 200
    try:
        if request.form.get("form") == "rename" and form.validate_on_submit():
            rules.save_team(team, form.name.data)
            flash(_("Saved."), "success")
            return redirect(url_for("admin.team_edit", team_id=team.id))
        if request.form.get("form") == "members" and members.validate_on_submit():
            rules.set_team_members(team, set(members.members.data or ()))
            flash(_("Members saved."), "success")
            return redirect(url_for("admin.team_edit", team_id=team.id))
    except AdminError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        status = 422
    return render_template("admin/team_edit.html", team=team, form=form, members=members,
                           action=ActionForm()), status


@bp.route("/teams/<int:team_id>/delete", methods=["POST"])
@require_permission("admin.users")
def team_delete(team_id: int):
    """Delete a team without members."""
    team = db.session.get(Team, team_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        name = team.name
        rules.delete_team(team)
        flash(_("Team %(name)s deleted.", name=name), "success")
    except AdminError as exc:
        flash(str(exc), "danger")
    return redirect(url_for("admin.teams"))
