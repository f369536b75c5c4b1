"""Task reminders: a Jalali reminder time on the task form, a periodic job that emails the
assignee exactly once (through the outbox, to a real SMTP server) even when two workers run it
at the same moment, and the reminded tasks first in "My day"."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from core import jobs, outbox
from core.customers.models import Customer, Task
from core.customers.reminders import send_due_reminders
from core.customers.tasks import add_task
from core.database import set_setting
from core.extensions import db
from core.messaging import MessageLog
from tests.conftest import csrf_from
from tests.core.messaging.servers import SmtpServer


@pytest.fixture
def smtp(app):
    """aiosmtpd on 127.0.0.1, set as the deployment's SMTP server."""
    server = SmtpServer().start()
    with app.app_context():
        for key, value in {"host": server.host, "port": server.port, "tls": "none",
                           "from": "پیوند <crm@peyvand.test>"}.items():
            set_setting(f"smtp.{key}", value)
        db.session.commit()
    yield server
    server.stop()


@pytest.fixture
def people(make_user, make_customer):
    agent = make_user("agent@example.ir", role="agent", name="سارا")
    make_user("admin@example.ir", name="مدیر")
    customer = make_customer("agent@example.ir", first_name="علی", last_name="کریمی")
    return {"agent": agent, "customer": customer}


def _plan(app, people, title: str, remind_at: datetime | None, due_at=None) -> int:
    with app.app_context():
        task = add_task(db.session.get(Customer, people["customer"]), title, due_at=due_at,
                        assignee_id=people["agent"], remind_at=remind_at)
        db.session.commit()
        return task.id


def test_the_job_is_registered_to_run_every_minute(app):
    entry = jobs.periodic_jobs()["customers.reminders"]
    assert entry.every == 60 and entry.path == "core.customers.reminders:send_due_reminders"


def test_plan_a_task_with_a_jalali_reminder_on_the_360_page(app, client, login, people):
    login("agent@example.ir")
    page = client.get(f"/customers/{people['customer']}")
    assert 'name="remind_at"' in page.get_data(as_text=True)
    response = client.post(f"/customers/{people['customer']}/tasks", data={
        "csrf_token": csrf_from(page), "title": "تماس برای تمدید", "due_at": "۱۴۰۳/۰۱/۱۶ ۱۰:۰۰",
        "remind_at": "۱۴۰۳/۰۱/۱۵ ۱۴:۳۰", "assignee_id": str(people["agent"])})
    assert response.status_code == 302
    with app.app_context():
        task = db.session.query(Task).one()
        # 14:30 Tehran on 1403/01/15 is 11:00 UTC on 2024-04-03
        assert task.remind_at.replace(tzinfo=None) == datetime(2024, 4, 3, 11, 0)
        assert task.reminded_at is None
    bad = client.post(f"/customers/{people['customer']}/tasks", data={
        "csrf_token": csrf_from(page), "title": "بد", "remind_at": "۱۴۰۳/۱۳/۰۱",
        "assignee_id": str(people["agent"])})
    assert bad.status_code == 302
    with app.app_context():
        assert db.session.query(Task).count() == 1


def test_a_due_reminder_sends_one_email_and_marks_the_task(app, client, login, people, smtp):
    remind_at = datetime(2024, 4, 3, 11, 0, tzinfo=UTC)
    task_id = _plan(app, people, "تماس برای تمدید", remind_at,
                    due_at=datetime(2024, 4, 4, 6, 30, tzinfo=UTC))
    later = _plan(app, people, "بعداً", remind_at + timedelta(days=1))
    done = _plan(app, people, "انجام شده", remind_at)
    none = _plan(app, people, "بی‌یادآور", None)
    with app.app_context():
        db.session.get(Task, done).done_at = remind_at
        db.session.commit()
        assert send_due_reminders(now=remind_at - timedelta(minutes=1)) == 0
        assert send_due_reminders(now=remind_at + timedelta(minutes=1)) == 1
        assert send_due_reminders(now=remind_at + timedelta(minutes=2)) == 0  # once only
        tasks = {t.id: t for t in db.session.query(Task)}
        assert tasks[task_id].reminded_at is not None
        assert all(tasks[i].reminded_at is None for i in (later, done, none))
        assert outbox.relay_once()["delivered"] == 1
        assert outbox.relay_once()["delivered"] == 0
        log = db.session.query(MessageLog).one()
        assert log.to == "agent@example.ir" and log.status == "sent"
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ["agent@example.ir"]
    assert "تماس برای تمدید" in mail.message["Subject"]
    body = mail.message.get_body(("plain",)).get_content()
    assert "علی کریمی" in body and "۱۴۰۳/۰۱/۱۶ ۱۰:۰۰" in body  # due date, Jalali, Tehran time

    login("agent@example.ir")
    agenda = client.get("/customers/agenda").get_data(as_text=True)
    reminded = agenda[agenda.index('data-agenda="reminded"'):]
    reminded = reminded[:reminded.index("</ul>")]
    assert f'data-task="{task_id}"' in reminded and f'data-task="{later}"' not in reminded
    assert 'data-agenda-count="reminded">۱<' in agenda
    dashboard = client.get("/").get_data(as_text=True)
    assert 'data-my-day="reminded"' in dashboard


def test_two_workers_at_once_send_each_reminder_exactly_once(app, people, smtp):
    remind_at = datetime(2024, 4, 3, 11, 0, tzinfo=UTC)
    ids = [_plan(app, people, f"کار {i}", remind_at) for i in range(5)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(send_due_reminders(now=remind_at + timedelta(minutes=1)))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [0, 5]  # one claim took every due reminder; the other found none
    with app.app_context():
        assert db.session.query(outbox.OutboxMessage).count() == 5
        assert all(t.reminded_at is not None for t in db.session.query(Task))
        assert outbox.relay_once()["delivered"] == 5
        # running again, twice more, sends nothing more
        assert send_due_reminders(now=remind_at + timedelta(minutes=2)) == 0
        assert outbox.relay_once()["delivered"] == 0
    received = smtp.wait_for(5)
    assert len(received) == 5
    titles = [f"کار {i}" for i in range(5)]
    assert sorted(t for m in received for t in titles if t in m.message["Subject"]) == titles
    assert len(ids) == 5
