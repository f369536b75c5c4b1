"""A sample list and form built only from the shell's macros and data attributes.

Registered on the test app by the browser tests: it exercises what module pages use
(field macro, keyset pagination, sorting, search, date picker, charts, drag and drop, htmx,
confirm dialogs, job progress) without depending on any module.
"""

import datetime as dt
from pathlib import Path

from flask import Blueprint, abort, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy import DateTime, Integer, String, insert, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from wtforms import (
    BooleanField,
    FileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired

from core.auth.permissions import public
from core.extensions import db
from core.fields import JalaliDateField
from core.pagination import request_page, sort_columns


class SampleBase(DeclarativeBase):
    """A private metadata: these tables never join the app's own schema."""


class Item(SampleBase):
    __tablename__ = "uitest_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


def create_items(rows: list[dict]) -> None:
    SampleBase.metadata.create_all(db.engine)
    if rows:
        db.session.execute(insert(Item), rows)
    db.session.commit()


def drop_items() -> None:
    SampleBase.metadata.drop_all(db.engine)


class SampleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()], description="As on the national card")
    born = JalaliDateField("Birthday")
    kind = SelectField("Kind", choices=[("person", "Person"), ("org", "Organisation")])
    channel = RadioField("Channel", choices=[("sms", "SMS"), ("email", "Email")], default="sms")
    notes = TextAreaField("Notes")
    active = BooleanField("Active")
    photo = FileField("Photo")


bp = Blueprint("uitest", __name__, url_prefix="/uitest",
               template_folder=str(Path(__file__).parent / "templates"))
STATE: dict = {}


@bp.route("/items")
@public
def items():
    """A keyset-paged, sortable, searchable list."""
    sort, columns = sort_columns(request.args.get("sort"), {"name": Item.name, "score": Item.score},
                                 default="name", tiebreak=Item.id)
    stmt = select(Item)
    if request.args.get("q"):
        stmt = stmt.where(Item.name.contains(request.args["q"]))
    if request.args.get("min"):
        stmt = stmt.where(Item.score >= int(request.args["min"]))
    page = request_page(stmt, columns, size=10)
    return render_template("uitest/items.html", page=page, sort=sort)


@bp.route("/form", methods=["GET", "POST"])
@public
def form():
    """Every field kind through the field macro; the Jalali date comes back parsed."""
    sample = SampleForm()
    parsed = None
    if sample.validate_on_submit():
        parsed = sample.born.data.isoformat() if sample.born.data else ""
    return render_template("uitest/form.html", form=sample, parsed=parsed)


@bp.route("/widgets")
@public
def widgets():
    """Charts, a sortable list, htmx, a confirm dialog and a job progress bar."""
    STATE["polls"] = 0
    return render_template("uitest/widgets.html", order=STATE.setdefault("order", ["a", "b", "c"]))


@bp.route("/fragment", methods=["POST"])
@public
def fragment():
    """An htmx POST (CSRF-checked) answering HTML with a chart and a date input in it."""
    return render_template("uitest/_fragment.html")


@bp.route("/order", methods=["POST"])
@public
def order():
    """Store the new order of the sortable list."""
    STATE["order"] = request.form.getlist("order")
    STATE["moved"] = request.form.get("item")
    return "", 204


@bp.route("/order-refused", methods=["POST"])
@public
def order_refused():
    """A server that refuses a reorder, with a reason in plain text."""
    return "This list is locked", 409, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/delete", methods=["POST"])
@public
def delete():
    """The target of a confirmed form."""
    STATE["deleted"] = STATE.get("deleted", 0) + 1
    return render_template("uitest/deleted.html", count=STATE["deleted"])


@bp.route("/job")
@public
def job():
    """A job that advances one step per poll and finishes at the fourth."""
    STATE["polls"] = STATE.get("polls", 0) + 1
    done = min(STATE["polls"], 4)
    record = {"id": 1, "status": "done" if done == 4 else "running", "done": done, "total": 4,
              "message": "Imported" if done == 4 else ""}
    if not request.headers.get("HX-Request"):
        abort(400)
    return render_template("uitest/_job.html", job=record)
