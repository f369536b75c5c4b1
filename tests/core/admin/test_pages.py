"""Every admin page renders for an admin and refuses an agent."""

import pytest

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/invite", "/admin/roles",
               "/admin/roles/new", "/admin/teams", "/admin/seats", "/admin/settings",
               "/admin/audit"]


@pytest.mark.parametrize("locale", ["fa", "en"])
def test_admin_sees_every_admin_page(client, make_user, login, locale):
    make_user(locale=locale)
    login()
    for path in ADMIN_PAGES:
        page = client.get(path)
        assert page.status_code == 200, (path, page.data[:300])
    index = client.get("/admin/").get_data(as_text=True)
    for endpoint in ("admin.users", "admin.roles", "admin.teams", "admin.seats",
                     "admin.settings", "admin.audit"):
        assert f'data-admin-card="{endpoint}"' in index


def test_agent_gets_403_on_every_admin_page(app, client, make_user, login):
    admin_id = make_user()
    make_user("agent@example.ir", role="agent")
    with app.app_context():
        from core.auth.models import Role, Team
        from core.extensions import db

        team = Team(name="t")
        db.session.add(team)
        db.session.commit()
        team_id = team.id
        role_id = db.session.query(Role).filter_by(name="agent").one().id
    login("agent@example.ir")
    paths = ADMIN_PAGES + [f"/admin/users/{admin_id}", f"/admin/roles/{role_id}",
                           f"/admin/teams/{team_id}"]
    for path in paths:
        assert client.get(path).status_code == 403, path
    posts = [f"/admin/users/{admin_id}/deactivate", f"/admin/users/{admin_id}/seats",
             f"/admin/roles/{role_id}/delete", f"/admin/teams/{team_id}/delete",
             "/admin/users/invite", "/admin/settings"]
    for path in posts:
        response = client.post(path, data={"csrf_token": _token(client)})
        assert response.status_code == 403, path
    with app.app_context():
        from core.auth.models import User
        from core.extensions import db

        assert db.session.get(User, admin_id).active


def test_admin_index_links_only_existing_pages(app, client, make_user, login):
    make_user()
    login()
    page = client.get("/admin/").get_data(as_text=True)
    for endpoint in ("licensing.license", "licensing.modules", "outbox.index"):
        if endpoint in app.view_functions:
            assert f'data-admin-card="{endpoint}"' in page


def test_account_security_needs_sign_in(client):
    assert client.get("/account/security").status_code == 302


def _token(client):
    from tests.conftest import csrf_from

    return csrf_from(client.get("/account/security"))
