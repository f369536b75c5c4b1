"""Roles and teams: custom roles from declared permissions with record scope, deletion rules."""

from flask_login import login_user
from sqlalchemy import select

from tests.conftest import csrf_from


def test_custom_role_with_own_scope(app, client, make_user, login):
    make_user()
    login()
    form = client.get("/admin/roles/new")
    text = form.get_data(as_text=True)
    assert 'value="customers.view"' in text and 'name="scope_customers"' in text
    response = client.post("/admin/roles/new", data={
        "name": "cashier", "permissions": ["core.dashboard", "customers.view"],
        "scope_customers": "own", "default_scope": "team", "csrf_token": csrf_from(form)})
    assert response.status_code == 302
    with app.app_context():
        from core.auth.models import Role
        from core.extensions import db

        role = db.session.execute(select(Role).where(Role.name == "cashier")).scalar_one()
        assert role.permissions == ["core.dashboard", "customers.view"]
        assert role.scope_for("customers") == "own" and role.default_scope == "team"
    cashier = make_user("cashier@example.ir", role="cashier")
    with app.test_request_context():
        from core.auth.models import User
        from core.auth.permissions import has_permission
        from core.auth.scope import current_scope
        from core.extensions import db

        login_user(db.session.get(User, cashier))
        assert current_scope("customers") == "own"
        assert has_permission("customers.view") and not has_permission("customers.edit")
        assert not has_permission("admin.users")


def test_unknown_permission_and_duplicate_names_are_refused(app, client, make_user, login):
    make_user()  # the default language, Persian
    login()
    form = client.get("/admin/roles/new")
    page = client.post("/admin/roles/new", data={
        "name": "Agent", "permissions": ["customers.view"], "default_scope": "own",
        "csrf_token": csrf_from(form)})
    assert page.status_code == 422
    assert "نقشی با نام Agent از قبل وجود دارد." in page.get_data(as_text=True)
    from core.admin.roles import save_role
    from core.admin.services import AdminError

    with app.app_context():
        try:
            save_role(None, name="x", permissions=["customers.fly"], scopes={})
        except AdminError as exc:
            assert "customers.fly" in str(exc)
        else:
            raise AssertionError("an unknown permission was accepted")


def test_admin_role_is_not_editable_and_builtin_keeps_permissions(app, client, make_user,
                                                                   login):
    make_user()
    login()
    with app.app_context():
        from core.admin.services import role_by_name

        admin_id, agent_id = role_by_name("admin").id, role_by_name("agent").id
        agent_perms = list(role_by_name("agent").permissions)
    assert client.get(f"/admin/roles/{admin_id}").status_code == 302
    form = client.get(f"/admin/roles/{agent_id}")
    client.post(f"/admin/roles/{agent_id}", data={
        "name": "agent", "permissions": ["admin.users"], "scope_customers": "team",
        "default_scope": "own", "csrf_token": csrf_from(form)})
    with app.app_context():
        role = role_by_name("agent")
        assert role.permissions == agent_perms and role.scope_for("customers") == "team"


def test_role_is_deleted_only_when_unused(app, client, make_user, login):
    from core.admin.roles import save_role

    make_user(locale="en")
    with app.app_context():
        role_id = save_role(None, name="temp", permissions=["customers.view"], scopes={}).id
    make_user("t@example.ir", role="temp")
    login()
    token = csrf_from(client.get("/admin/roles"))
    page = client.post(f"/admin/roles/{role_id}/delete", data={"csrf_token": token},
                       follow_redirects=True)
    assert "1 user(s) still have the role temp" in page.get_data(as_text=True)
    make_user("t@example.ir", role="agent")
    client.post(f"/admin/roles/{role_id}/delete", data={"csrf_token": token})
    with app.app_context():
        from core.auth.models import Role
        from core.extensions import db

        assert db.session.get(Role, role_id) is None


def test_teams_create_members_rename_delete(app, client, make_user, login):
    make_user(locale="en")
    sara = make_user("sara@example.ir", role="agent")
    login()
    page = client.get("/admin/teams")
    client.post("/admin/teams", data={"name": "فروش تهران", "csrf_token": csrf_from(page)})
    with app.app_context():
        from core.auth.models import Team, User
        from core.extensions import db

        team_id = db.session.execute(select(Team.id)).scalar_one()
    edit = client.get(f"/admin/teams/{team_id}")
    client.post(f"/admin/teams/{team_id}", data={"form": "members", "members": [sara],
                                                 "csrf_token": csrf_from(edit)})
    refused = client.post(f"/admin/teams/{team_id}/delete", data={"csrf_token": csrf_from(edit)},
                          follow_redirects=True)
    assert "still has 1 member(s)" in refused.get_data(as_text=True)
    client.post(f"/admin/teams/{team_id}", data={"form": "rename", "name": "فروش شیراز",
                                                 "csrf_token": csrf_from(edit)})
    with app.app_context():
        assert db.session.get(User, sara).team.name == "فروش شیراز"
    client.post(f"/admin/teams/{team_id}", data={"form": "members",
                                                 "csrf_token": csrf_from(edit)})
    client.post(f"/admin/teams/{team_id}/delete", data={"csrf_token": csrf_from(edit)})
    with app.app_context():
        assert db.session.get(Team, team_id) is None
