"""Task reminders: when a task's reminder time comes, email its assignee (once) and show it in
"My day".

``send_due_reminders`` is a periodic job. It claims every due reminder with one
``UPDATE ... SET reminded_at WHERE reminded_at IS NULL ... RETURNING id``: a second worker
running at the same moment waits for the first one's row locks (PostgreSQL) or write lock
(SQLite) and then finds nothing left to claim. The claim and the queued emails commit
together, so a crash before the commit leaves the reminders unclaimed for the next run, and
the outbox delivers each email once (its idempotency key names the task and the time).
"""

import logging
from datetime import datetime

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from werkzeug.routing import BuildError

from core.customers.models import Task
from core.database import get_setting, utcnow
from core.extensions import db
from core.i18n import jdatetime_filter

EVERY_SECONDS = 60
log = logging.getLogger(__name__)


def claim_due_reminders(now: datetime) -> list[int]:
    """Mark every open task whose reminder is due and not yet sent as reminded; their ids."""
    stmt = (update(Task)
            .where(Task.remind_at <= now, Task.reminded_at.is_(None), Task.done_at.is_(None))
            .values(reminded_at=now).returning(Task.id)
            .execution_options(synchronize_session=False))
    return sorted(db.session.execute(stmt).scalars())


def _link(task: Task) -> str | None:
    """The task's customer page as an absolute URL, when the deployment knows its address."""
    try:
        return url_for("customers.show", customer_id=task.customer_id, _external=True)
    except (RuntimeError, BuildError):
        return None


def reminder_email(task: Task, language: str) -> tuple[str, str]:
    """(subject, text) of the reminder for ``task`` in ``language``."""
    with force_locale(language):
        subject = _("Reminder: %(title)s", title=task.title)
        lines = [_("A reminder for your task “%(title)s” for %(customer)s.",
                   title=task.title, customer=task.customer.display_name)]
        if task.due_at is not None:
            lines.append(_("Due: %(when)s", when=jdatetime_filter(task.due_at, locale=language)))
        link = _link(task)
        if link:
            lines.append(link)
        lines.append(_("It is also listed in My day."))
    return subject, "\n\n".join(lines)


def send_due_reminders(now: datetime | None = None) -> int:
    """The periodic job: email each due reminder's assignee; returns how many were queued."""
    from core.messaging import send_email

    now = now or utcnow()
    ids = claim_due_reminders(now)
    sent = 0
    default_language = get_setting("display.language") or "fa"
    for task in db.session.execute(select(Task).where(Task.id.in_(ids))).unique().scalars():
        assignee = task.assignee
        if assignee is None or not assignee.active or not assignee.email:
            continue
        subject, text = reminder_email(task, assignee.locale or default_language)
        try:
            send_email(assignee.email, subject, text=text,
                       language=assignee.locale or default_language,
                       key=f"task-reminder:{task.id}:{task.remind_at.isoformat()}")
        except ValueError:  # a malformed address: nobody to tell; the reminder stays claimed
            log.warning("task %s: cannot email a reminder to %r", task.id, assignee.email)
            continue
        sent += 1
    db.session.commit()
    return sent

