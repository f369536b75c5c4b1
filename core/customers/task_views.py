"""Task pages: plan a task on the 360 page, complete it, and "my day"."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404
from core.customers import tasks
from core.customers.forms import TaskForm
from core.customers.models import Customer, Task
from core.customers.views import _users, bp
from core.extensions import db


def task_form() -> TaskForm:
    """The task form with the active users as assignees (the current user first)."""
    form = TaskForm()
    form.assignee_id.choices = [(u.id, u.name or u.email) for u in _users()]
    if request.method == "GET":
        form.assignee_id.data = current_user.id
    return form


@bp.route("/<int:customer_id>/tasks", methods=["POST"])
@require_permission("customers.edit")
def add_task(customer_id: int):
    """Plan a task for the customer."""
    customer = get_scoped_or_404(Customer, customer_id, "customers")
    form = task_form()
    if form.validate_on_submit():
        tasks.add_task(customer, form.title.data, due_at=form.due_at.data,
                       assignee_id=form.assignee_id.data, by=current_user,
                       remind_at=form.remind_at.data)
        db.session.commit()
        flash(_("Task planned."), "success")
    else:
        errors = [e for f in form for e in f.errors]
        flash(" ".join(errors) or _("Say what needs to be done."), "danger")
    return redirect(url_for("customers.show", customer_id=customer.id))


@bp.route("/tasks/<int:task_id>/done", methods=["POST"])
@require_permission("customers.edit")
def complete_task(task_id: int):
    """Mark a task done (the task's customer must be in the user's scope)."""
    task = db.session.get(Task, task_id)
    if task is None:
        abort(404)
    get_scoped_or_404(Customer, task.customer_id, "customers")
    tasks.complete_task(task)
    db.session.commit()
    flash(_("Task done."), "success")
    target = request.form.get("next") or url_for("customers.agenda")
    return redirect(target if target.startswith("/") and not target.startswith("//")
                    else url_for("customers.agenda"))


@bp.route("/agenda")
@require_permission("customers.view")
def agenda():
    """My day: my open tasks that are overdue, due today, or have no date."""
    return render_template("customers/agenda.html", groups=tasks.agenda(current_user.id))


def open_tasks(customer: Customer) -> list[Task]:
    """The customer's open tasks, soonest first."""
    stmt = (select(Task).where(Task.customer_id == customer.id, Task.done_at.is_(None))
            .order_by(Task.due_at, Task.id))
    return list(db.session.execute(stmt).unique().scalars())


def render_widget() -> Markup:
    """The dashboard card: how many of my tasks were reminded, are overdue or due today."""
    groups = tasks.agenda(current_user.id)
    return Markup(render_template("customers/_my_day_widget.html",
                                  counts={k: len(v) for k, v in groups.items()}))
