"""Admin page for the outbox: counts, filtered list, dead letters, retry."""

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core import jobs
from core.audit import record
from core.auth.permissions import require_permission
from core.extensions import db
from core.outbox.models import STATUSES, OutboxMessage
from core.outbox.relay import relay_job, retry, retry_all_dead, status_counts

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")
PAGE_SIZE = 50
KIND_LABELS = {"email": _l("Email"), "sms": _l("SMS"), "webhook": _l("Webhook")}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/")
@require_permission("admin.outbox")
def index():
    """Outgoing deliveries: counts per status, dead letters, and a filtered list."""
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    before = _int_arg("before")
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE + 1)
    if status in STATUSES:
        stmt = stmt.where(OutboxMessage.status == status)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    if before:
        stmt = stmt.where(OutboxMessage.id < before)
    rows = list(db.session.execute(stmt).scalars())
    next_before = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    dead = list(db.session.execute(
        select(OutboxMessage).where(OutboxMessage.status == "dead")
        .order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE)
    ).scalars())
    kinds = list(db.session.execute(
        select(OutboxMessage.kind).distinct().order_by(OutboxMessage.kind)
    ).scalars())
    return render_template(
        "outbox/index.html", counts=status_counts(), messages=rows[:PAGE_SIZE], dead=dead,
        kinds=kinds, statuses=STATUSES, status=status, kind=kind, next_before=next_before,
        kind_labels={k: str(v) for k, v in KIND_LABELS.items()},
    )


@bp.route("/<int:message_id>/retry", methods=["POST"])
@require_permission("admin.outbox")
def retry_one(message_id: int):
    """Put one message back in the queue with its attempts reset."""
    if retry(message_id):
        record("outbox.retry", target=f"core_outbox:{message_id}")
        db.session.commit()
        jobs.enqueue(relay_job)
        flash(_("Message %(id)s will be delivered again.", id=message_id), "success")
    else:
        flash(_("Message %(id)s was already delivered or does not exist.", id=message_id),
              "warning")
    return redirect(request.referrer or url_for("outbox.index"))


@bp.route("/retry-dead", methods=["POST"])
@require_permission("admin.outbox")
def retry_dead():
    """Put every dead message back in the queue."""
    count = retry_all_dead()
    record("outbox.retry_all_dead", detail={"count": count})
    db.session.commit()
    jobs.enqueue(relay_job)
    flash(_("%(count)s dead messages will be delivered again.", count=count), "success")
    return redirect(url_for("outbox.index"))


def init_app(app: Flask) -> None:
    from core.modules import MenuEntry
    from core.ui import add_core_menu

    app.register_blueprint(bp)
    add_core_menu(app, MenuEntry("outbox.index", _l("Outbox"), icon="send",
                                 permission="admin.outbox"))
