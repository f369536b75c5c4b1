"""Tasks on customers: plan with a Jalali due date, complete, and the agenda for "my day"."""

from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from core.customers.models import Customer, Task
from core.customers.services import CustomerError
from core.database import utcnow
from core.extensions import db
from core.i18n import local_date, utc_range


def add_task(customer: Customer, title: str, *, due_at: datetime | None = None,
             assignee_id: int | None = None, by=None,
             remind_at: datetime | None = None) -> Task:
    """A task for ``customer``; assigned to ``by`` unless someone else is named.

    With ``remind_at`` the assignee gets a reminder then (``core.customers.reminders``).
    """
    title = (title or "").strip()
    if not title:
        raise CustomerError({"title": _("Say what needs to be done.")})
    task = Task(customer_id=customer.id, title=title[:200], due_at=due_at,
                assignee_id=assignee_id or getattr(by, "id", None),
                created_by_id=getattr(by, "id", None), remind_at=remind_at)
    db.session.add(task)
    db.session.flush()
    return task


def complete_task(task: Task) -> Task:
    """Mark a task done (once; completing it again changes nothing)."""
    if task.done_at is None:
        task.done_at = utcnow()
        db.session.flush()
    return task


def agenda(user_id: int, day=None) -> dict[str, list[Task]]:
    """A user's open tasks: "reminded" (a reminder went out), then the others "overdue"
    (before ``day``, Tehran time), "today" or "undated"."""
    day = day or local_date(utcnow())
    start, end = utc_range(day, day + timedelta(days=1))
    stmt = (select(Task).where(Task.assignee_id == user_id, Task.done_at.is_(None))
            .order_by(Task.due_at, Task.id))
    tasks = list(db.session.execute(stmt).unique().scalars())

    def when(task):
        due = task.due_at if task.due_at.tzinfo else task.due_at.replace(tzinfo=UTC)
        return "overdue" if due < start else "today" if due < end else "later"

    groups: dict[str, list[Task]] = {"reminded": [], "overdue": [], "today": [],
                                     "undated": []}
    for task in tasks:
        group = ("reminded" if task.reminded_at is not None
                 else "undated" if task.due_at is None else when(task))
        if group in groups:
            groups[group].append(task)
    return groups


def task_entries(customer: Customer) -> list:
    """Timeline entries: each task when planned, and again when done."""
    from core.customers.timeline import TimelineEntry

    tasks = db.session.execute(select(Task).where(Task.customer_id == customer.id)
                               .order_by(Task.id.desc()).limit(200)).unique().scalars()
    entries = []
    for task in tasks:
        entries.append(TimelineEntry(at=task.created_at, kind="task",
                                     title=_("Task planned: %(title)s", title=task.title)))
        if task.done_at is not None:
            entries.append(TimelineEntry(at=task.done_at, kind="task_done",
                                         title=_("Task done: %(title)s", title=task.title)))
    return entries
