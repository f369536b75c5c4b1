"""Admin pages that take an id speak Persian too: role labels, module titles, no technical names."""

from tests.core.test_translations import latin_in


def test_record_pages_show_no_latin_words_in_persian(app, client, make_user, login):
    make_user(name="مدیر سامانه", seats=["sales"])
    agent = make_user("agent@example.ir", role="agent", name="کارشناس فروش", seats=["sales"])
    with app.app_context():
        from sqlalchemy import select

        from core.admin.roles import save_role
        from core.auth.models import Role, Team
        from core.extensions import db

        manager = db.session.execute(select(Role).where(Role.name == "manager")).scalar_one().id
        custom = save_role(None, name="صندوق‌دار", permissions=["customers.view"], scopes={}).id
        team = Team(name="فروش تهران")
        db.session.add(team)
        db.session.commit()
        team_id = team.id
    login()
    for path in (f"/admin/roles/{manager}", f"/admin/roles/{custom}", f"/admin/users/{agent}",
                 f"/admin/teams/{team_id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert latin_in(page.get_data(as_text=True)) == [], path


def test_role_page_names_areas_and_builtin_roles_in_the_reader_language(app, client, make_user,
                                                                          login):
    make_user(locale="fa")
    with app.app_context():
        from sqlalchemy import select

        from core.auth.models import Role
        from core.extensions import db

        manager = db.session.execute(select(Role).where(Role.name == "manager")).scalar_one().id
    login()
    html = client.get(f"/admin/roles/{manager}").get_data(as_text=True)
    assert '<h1 class="h3 mb-3">مدیر</h1>' in html
    assert '<legend class="h6">فروش</legend>' in html
    assert '<legend class="h6">مشتریان</legend>' in html
    assert 'for="scope-sales">فروش</label>' in html
    users = client.get("/admin/users").get_data(as_text=True)
    assert '<td data-role="admin">مدیر سامانه</td>' in users
