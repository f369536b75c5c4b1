"""Calls, tasks with Jalali due dates, and "my day"."""

import re
from datetime import timedelta

from core.customers.models import Task
from core.database import utcnow
from core.extensions import db
from tests.conftest import csrf_from


def test_log_a_call_and_plan_a_task_on_the_360_page(app, client, make_user, login,
                                                    make_customer):
    make_user("admin@example.ir", name="مدیر")
    login("admin@example.ir")
    customer_id = make_customer("admin@example.ir", first_name="سارا")
    page = client.get(f"/customers/{customer_id}")
    token = csrf_from(page)
    client.post(f"/customers/{customer_id}/notes",
                data={"csrf_token": token, "kind": "call", "body": "درباره تمدید قرارداد"})
    response = client.post(f"/customers/{customer_id}/tasks", data={
        "csrf_token": token, "title": "ارسال پیش‌فاکتور", "due_at": "۱۴۰۳/۰۱/۱۵ ۱۴:۳۰",
        "assignee_id": re.search(r'name="assignee_id"[^>]*>\s*<option (?:selected )?value="(\d+)"',
                                 page.get_data(as_text=True)).group(1)})
    assert response.status_code == 302
    with app.app_context():
        task = db.session.query(Task).one()
        assert task.title == "ارسال پیش‌فاکتور"
        # 14:30 Tehran (UTC+3:30 in Farvardin 1403) is 11:00 UTC on 2024-04-03
        assert task.due_at.replace(tzinfo=None).isoformat() == "2024-04-03T11:00:00"
        task_id = task.id
    html = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert 'data-entry="call"' in html and "درباره تمدید قرارداد" in html
    assert f'data-task="{task_id}"' in html and 'data-entry="task"' in html

    agenda = client.get("/customers/agenda").get_data(as_text=True)
    assert 'data-agenda="overdue"' in agenda and "ارسال پیش‌فاکتور" in agenda
    done = client.post(f"/customers/tasks/{task_id}/done",
                       data={"csrf_token": token, "next": f"/customers/{customer_id}"})
    assert done.headers["Location"].endswith(f"/customers/{customer_id}")
    html = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert f'data-task="{task_id}"' not in html and 'data-entry="task_done"' in html
    assert "ارسال پیش‌فاکتور" not in client.get("/customers/agenda").get_data(as_text=True)


def test_my_day_groups_overdue_today_and_undated_and_only_mine(app, make_user,
                                                              make_customer):
    from core.customers.models import Customer
    from core.customers.tasks import add_task, agenda

    me = make_user("a@example.ir", role="agent")
    other = make_user("b@example.ir", role="agent")
    customer_id = make_customer("a@example.ir", first_name="سارا")
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        now = utcnow()
        add_task(customer, "دیروز", due_at=now - timedelta(days=2), assignee_id=me)
        add_task(customer, "امروز", due_at=now, assignee_id=me)
        add_task(customer, "بی‌تاریخ", assignee_id=me)
        add_task(customer, "فردا", due_at=now + timedelta(days=3), assignee_id=me)
        add_task(customer, "مال دیگری", due_at=now, assignee_id=other)
        db.session.commit()
        groups = agenda(me)
        assert {k: [t.title for t in v] for k, v in groups.items()} == {
            "reminded": [], "overdue": ["دیروز"], "today": ["امروز"], "undated": ["بی‌تاریخ"]}


def test_an_agent_cannot_complete_a_task_on_another_agents_customer(
        app, client, make_user, login, make_customer):
    from core.customers.models import Customer
    from core.customers.tasks import add_task

    make_user("a@example.ir", role="agent")
    other = make_user("b@example.ir", role="agent")
    theirs = make_customer("b@example.ir", first_name="دیگری")
    with app.app_context():
        task = add_task(db.session.get(Customer, theirs), "کار", assignee_id=other)
        db.session.commit()
        task_id = task.id
    login("a@example.ir")
    token = csrf_from(client.get("/customers/agenda"))
    assert client.post(f"/customers/tasks/{task_id}/done",
                       data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(Task, task_id).done_at is None
