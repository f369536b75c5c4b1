"""The support mailbox settings page: stored like SMTP, password never shown, clear errors."""

import pytest

from core.database import get_setting
from core.extensions import db
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def form(page, **values):
    data = {"csrf_token": csrf_from(page), "host": "imap.example.ir", "port": "",
            "security": "ssl", "username": "support@example.ir", "password": "",
            "folder": "", "address": "Support@Example.ir", "acknowledge": "y"}
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def test_manager_saves_the_mailbox_and_the_password_stays_secret(app, client, make_user, login):
    make_user(seats=["service"], locale="en")
    login()
    page = client.get("/service/mailbox")
    assert page.status_code == 200
    assert b"The mailbox is not set up yet" in page.data
    assert b"No mail read yet" in page.data
    saved = client.post("/service/mailbox", data=form(page, password="s3cret-pass"),
                        follow_redirects=True)
    assert b"Mailbox settings saved." in saved.data
    assert b"s3cret-pass" not in saved.data  # never echoed back
    with app.app_context():
        from modules.service.mailbox import mailbox_settings

        settings = mailbox_settings()
        assert (settings.host, settings.port, settings.security, settings.folder) == (
            "imap.example.ir", 993, "ssl", "INBOX")
        assert settings.password == "s3cret-pass"
        assert settings.address == "support@example.ir"
        assert get_setting("service.mailbox.password") == "s3cret-pass"
    # saving again without a password keeps the stored one
    page = client.get("/service/mailbox")
    assert b"s3cret-pass" not in page.data
    client.post("/service/mailbox", data=form(page, port="۱۴۳", security="starttls",
                                              acknowledge=None), follow_redirects=True)
    with app.app_context():
        from modules.service.mailbox import mailbox_settings

        settings = mailbox_settings()
        assert (settings.port, settings.security, settings.password) == (143, "starttls",
                                                                         "s3cret-pass")
        assert settings.acknowledge is False
    # and it can be removed on purpose
    page = client.get("/service/mailbox")
    client.post("/service/mailbox", data=form(page, clear_password="y"))
    with app.app_context():
        assert get_setting("service.mailbox.password") == ""


def test_wrong_values_are_explained(app, client, make_user, login):
    make_user(seats=["service"], locale="en")
    login()
    page = client.get("/service/mailbox")
    wrong = client.post("/service/mailbox", data=form(page, port="70000", address="not-mail",
                                                      username=""))
    assert wrong.status_code == 422
    assert b"70000 is not a port number (1 to 65535)." in wrong.data
    assert b"not-mail is not an email address." in wrong.data
    assert b"Give the user name of the mailbox." in wrong.data
    with app.app_context():
        assert get_setting("service.mailbox.host") is None


def test_read_now_reports_an_unreachable_server(app, client, make_user, login):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    make_user(seats=["service"], locale="en")
    login()
    page = client.get("/service/mailbox")
    client.post("/service/mailbox", data=form(page, host="127.0.0.1", port=str(port),
                                              security="none", password="x"))
    page = client.get("/service/mailbox")
    answer = client.post("/service/mailbox/poll", data={"csrf_token": csrf_from(page)},
                         follow_redirects=True)
    assert b"The mailbox could not be read" in answer.data
    assert b"Last read on" in answer.data  # the failed attempt is shown with its time


def test_agents_cannot_see_the_mailbox_settings(app, client, make_user, login):
    make_user("agent@example.ir", role="agent", seats=["service"], locale="en")
    login("agent@example.ir")
    assert client.get("/service/mailbox").status_code == 403
    assert client.post("/service/mailbox/poll").status_code in (400, 403)


def test_page_in_persian_with_jalali_dates(app, client, make_user, login):
    from datetime import UTC, datetime

    from core.database import set_setting
    from modules.service.models.tickets import InboundMail

    with app.app_context():
        set_setting("service.mailbox.host", "imap.example.ir")
        set_setting("service.mailbox.username", "support")
        set_setting("service.mailbox.status", {"at": "2026-03-21T06:30:00+00:00",
                                               "error": None, "counts": {"new": 1}})
        db.session.add(InboundMail(message_id="<a@x>", sender="ali@example.ir", outcome="auto",
                                   received_at=datetime(2026, 3, 22, 8, 0, tzinfo=UTC)))
        db.session.commit()
    make_user(seats=["service"], locale="fa")
    login()
    page = client.get("/service/mailbox").get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert "۱۴۰۵" in page  # 1 and 2 Farvardin 1405, in Persian digits
    assert "ali@example.ir" in page


def test_poll_command_says_when_the_mailbox_is_not_set_up(app, runner):
    result = runner.invoke(args=["crm", "service", "poll-mail"])
    assert result.exit_code == 1
    assert "the support mailbox is not set up" in result.output


def test_the_poll_runs_as_a_periodic_job(app):
    from core.jobs import periodic_jobs

    job = periodic_jobs()["service.mail"]
    assert job.path == "modules.service.mail_poll:poll_job" and job.every == 60
    with app.app_context():
        from modules.service.mail_poll import poll_job

        assert poll_job() == {"counts": {}, "error": None}  # not set up: nothing to do
