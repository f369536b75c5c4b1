"""Users: invitation end to end, seats over the license, deactivation, last-admin rules."""

import re

from sqlalchemy import select

from tests.conftest import csrf_from


def _user(app, email):
    from core.auth.models import User
    from core.extensions import db

    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        return user.id, user.active, sorted(user.seat_modules), user.invite_token_hash


def test_invite_link_accept_and_sign_in(app, client, make_user, login):
    make_user()
    login()
    form = client.get("/admin/users/invite")
    with app.app_context():
        from core.admin.services import role_by_name

        agent_role = role_by_name("agent").id
    page = client.post("/admin/users/invite", data={
        "email": "New.Person@example.ir", "name": "", "role": agent_role, "team": 0,
        "locale": "en", "csrf_token": csrf_from(form)})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    link = re.search(r'value="(http://localhost/auth/invite/[^"]+)"', text).group(1)
    user_id, active, _seats, token_hash = _user(app, "new.person@example.ir")
    assert active and token_hash and token_hash not in link  # only the hash is stored
    # the link is shown once: the users page does not repeat it
    assert link not in client.get("/admin/users").get_data(as_text=True)

    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/admin/users"))})
    accept = client.get(link)
    assert accept.status_code == 200
    done = client.post(link, data={"name": "Nima Parsa", "password": "a good long password",
                                   "csrf_token": csrf_from(accept)})
    assert done.status_code == 302
    assert _user(app, "new.person@example.ir")[3] is None
    assert client.get(link).status_code == 404  # one use only
    client.post("/auth/logout", data={"csrf_token": csrf_from(client.get("/"))})
    login("new.person@example.ir", "a good long password")
    assert client.get("/").status_code == 200


def test_invite_refuses_an_existing_account(client, make_user, login, app):
    make_user()
    login()
    form = client.get("/admin/users/invite")
    with app.app_context():
        from core.admin.services import role_by_name

        role = role_by_name("agent").id
    page = client.post("/admin/users/invite", data={
        "email": "admin@example.ir", "role": role, "team": 0, "locale": "",
        "csrf_token": csrf_from(form)})
    assert page.status_code == 422  # the admin sees the default language, Persian
    assert "admin@example.ir از قبل حساب کاربری دارد." in page.get_data(as_text=True)


def test_seat_over_the_trial_limit_is_refused_with_the_reason(app, client, make_user, login):
    make_user(seats=["sales"], locale="en")
    make_user("a1@example.ir", role="agent", seats=["sales"])
    make_user("a2@example.ir", role="agent", seats=["sales"])
    fourth = make_user("a3@example.ir", role="agent")
    login()
    edit = client.get(f"/admin/users/{fourth}")
    page = client.post(f"/admin/users/{fourth}/seats",
                       data={"modules": ["sales", "service"], "csrf_token": csrf_from(edit)},
                       follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "No free seat in Sales: all 3 seats of the license are taken." in text
    assert _user(app, "a3@example.ir")[2] == ["service"]  # the other seat was given
    overview = client.get("/admin/seats").get_data(as_text=True)
    assert 'data-seats="3/3"' in overview


def test_deactivate_frees_seats_and_blocks_sign_in(app, client, make_user, login):
    make_user()
    agent = make_user("agent@example.ir", role="agent", seats=["sales", "service"])
    login()
    edit = client.get(f"/admin/users/{agent}")
    client.post(f"/admin/users/{agent}/deactivate", data={"csrf_token": csrf_from(edit)})
    _id, active, seats, _ = _user(app, "agent@example.ir")
    assert not active and seats == []
    with app.app_context():
        from core.admin.services import seats_used

        assert seats_used("sales") == 0
    other = app.test_client()
    page = other.get("/auth/login")
    refused = other.post("/auth/login", data={"email": "agent@example.ir",
                                               "password": "correct horse battery",
                                               "csrf_token": csrf_from(page)})
    assert refused.status_code == 401
    client.post(f"/admin/users/{agent}/reactivate", data={"csrf_token": csrf_from(edit)})
    assert _user(app, "agent@example.ir")[1] is True


def test_admin_cannot_deactivate_themselves_or_demote_the_last_admin(app, client, make_user,
                                                                      login):
    me = make_user(locale="en")
    login()
    edit = client.get(f"/admin/users/{me}")
    page = client.post(f"/admin/users/{me}/deactivate", data={"csrf_token": csrf_from(edit)},
                       follow_redirects=True)
    assert "You cannot deactivate your own account." in page.get_data(as_text=True)
    assert _user(app, "admin@example.ir")[1] is True
    with app.app_context():
        from core.admin.services import role_by_name

        agent = role_by_name("agent").id
    page = client.post(f"/admin/users/{me}", data={
        "name": "Admin", "role": agent, "team": 0, "locale": "", "csrf_token": csrf_from(edit)})
    assert page.status_code == 422
    assert "You cannot remove the admin role from your own account." in page.get_data(
        as_text=True)
    assert _role(app, me) == "admin"


def _role(app, user_id):
    from core.auth.models import User
    from core.extensions import db

    with app.app_context():
        return db.session.get(User, user_id).role.name


def test_last_admin_cannot_be_deactivated_by_another_path(app, make_user):
    from core.admin.services import AdminError, guarded_deactivate
    from core.auth.models import User
    from core.extensions import db

    only = make_user()
    with app.app_context():
        user = db.session.get(User, only)
        try:
            guarded_deactivate(user)
        except AdminError as exc:
            assert "last active admin" in str(exc)
        else:
            raise AssertionError("the last admin was deactivated")


def test_users_list_search_and_filters(app, client, make_user, login):
    make_user()
    make_user("sara@example.ir", role="agent", name="Sara Moradi")
    make_user("reza@example.ir", role="manager", name="Reza Kamali")
    login()
    text = client.get("/admin/users?q=moradi").get_data(as_text=True)
    assert 'data-user="sara@example.ir"' in text and 'data-user="reza@example.ir"' not in text
    with app.app_context():
        from core.admin.services import role_by_name

        manager = role_by_name("manager").id
    text = client.get(f"/admin/users?role={manager}").get_data(as_text=True)
    assert 'data-user="reza@example.ir"' in text and 'data-user="sara@example.ir"' not in text
    text = client.get("/admin/users?active=0").get_data(as_text=True)
    assert "data-user=" not in text


def test_users_list_pages(app, client, make_user, login):
    make_user()
    for n in range(30):
        make_user(f"u{n:02d}@example.ir", role="agent")
    login()
    first = client.get("/admin/users").get_data(as_text=True)
    assert first.count("data-user=") == 25
    next_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert second.count("data-user=") == 6
    assert not set(re.findall(r'data-user="([^"]+)"', first)) & set(
        re.findall(r'data-user="([^"]+)"', second))


def test_invitation_email_arrives_over_real_smtp(app, client, make_user, login):
    from core import outbox
    from core.database import set_setting
    from core.extensions import db
    from tests.core.messaging.servers import SmtpServer

    server = SmtpServer().start()
    try:
        with app.app_context():
            for key, value in {"host": server.host, "port": server.port, "tls": "none",
                               "from": "crm@peyvand.local"}.items():
                set_setting(f"smtp.{key}", value)
            db.session.commit()
            from core.admin.services import role_by_name

            agent_role = role_by_name("agent").id
        make_user(locale="en")
        login()
        form = client.get("/admin/users/invite")
        page = client.post("/admin/users/invite", data={
            "email": "mail.me@example.ir", "role": agent_role, "team": 0, "locale": "",
            "csrf_token": csrf_from(form)}).get_data(as_text=True)
        assert "is on its way" in page
        link = re.search(r'value="(http://localhost/auth/invite/[^"]+)"', page).group(1)
        with app.app_context():
            outbox.relay_once()
        assert len(server.messages) == 1
        mail = server.messages[0]
        assert mail.rcpt_tos == ["mail.me@example.ir"]
        body = mail.message.get_body(preferencelist=("plain",)).get_content()
        assert link in body
    finally:
        server.stop()
