"""Progress of long jobs (imports, campaign sends, recomputes) that the UI polls.

In the view::

    progress = JobProgress.create("customers.import", total=len(rows), created_by=current_user.id)
    db.session.commit()
    jobs.enqueue(import_rows, path, job_id=progress.id)

In the job::

    progress = JobProgress.get(job_id)
    progress.start()
    for batch in batches:
        ...                                   # write the batch
        progress.advance(len(batch))          # commits the batch and the progress together
    progress.finish(result={"created": n})    # or progress.fail("line 12: no name")

``GET /jobs/<id>`` answers JSON, or the htmx partial ``jobs/_progress.html`` (which keeps
polling itself until the job is done) when asked by htmx or with ``?format=html``.
"""

from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, abort, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.auth.permissions import authenticated, has_permission
from core.database import utcnow
from core.extensions import db

STATUSES = ("queued", "running", "done", "failed")


class JobRecord(db.Model):
    """One long job's state: status, done/total, a message and the result."""

    __tablename__ = "core_job"
    __audit__ = False
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    created_by: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.status == "done" else None
        return min(100, int(self.done * 100 / self.total))

    def to_dict(self) -> dict:
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "done": self.done,
            "total": self.total, "percent": self.percent, "message": self.message,
            "result": self.result,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class JobProgress:
    """What a long job reports; every method commits so that pollers see it at once."""

    def __init__(self, record: JobRecord):
        self.record = record

    @property
    def id(self) -> int:
        return self.record.id

    @classmethod
    def create(cls, kind: str, *, total: int | None = None,
               created_by: int | None = None) -> "JobProgress":
        """A queued job record in the current transaction (the caller commits)."""
        record = JobRecord(kind=kind, total=total, created_by=created_by, status="queued")
        db.session.add(record)
        db.session.flush()
        return cls(record)

    @classmethod
    def get(cls, job_id: int) -> "JobProgress":
        record = db.session.get(JobRecord, job_id)
        if record is None:
            raise LookupError(f"no job with id {job_id}")
        return cls(record)

    def start(self, total: int | None = None, message: str = "") -> None:
        self.record.status = "running"
        self.record.started_at = utcnow()
        if total is not None:
            self.record.total = total
        self.record.message = message
        db.session.commit()

    def advance(self, n: int = 1, message: str | None = None) -> None:
        """Count ``n`` more items done; commits the job's work so far with it."""
        self.record.done += n
        if message is not None:
            self.record.message = message
        db.session.commit()

    def finish(self, result: Any = None, message: str = "") -> None:
        self.record.status = "done"
        self.record.result = result
        self.record.message = message
        self.record.finished_at = utcnow()
        db.session.commit()

    def fail(self, message: str, result: Any = None) -> None:
        """Record the failure (after rolling back the job's unfinished work)."""
        db.session.rollback()
        record = db.session.get(JobRecord, self.record.id)
        record.status = "failed"
        record.message = message
        record.result = result
        record.finished_at = utcnow()
        db.session.commit()
        self.record = record


bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.route("/<int:job_id>")
@authenticated
def status(job_id: int):
    """A long job's progress, for its creator or an admin (JSON, or the htmx partial)."""
    record = db.session.get(JobRecord, job_id)
    if record is None or not (record.created_by == current_user.id or has_permission("*")):
        abort(404)
    if request.headers.get("HX-Request") or request.args.get("format") == "html":
        return render_template("jobs/_progress.html", job=record)
    return jsonify(record.to_dict())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
