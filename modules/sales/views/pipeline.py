"""Pipeline pages: the kanban board and its drag-and-drop move, the forecast, pipeline setup."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.models import User
from core.auth.permissions import has_permission, require_permission
from core.auth.scope import get_scoped_or_404
from core.extensions import db
from core.i18n import current_locale, format_number, jmonth, to_latin_digits
from core.money import UNIT_WORDS, display_unit, format_money, in_unit
from modules.sales import board as queries
from modules.sales import pipeline as services
from modules.sales.models.pipeline import Deal, Pipeline, Stage
from modules.sales.views import bp
from modules.sales.views.pipeline_forms import PipelineForm


def require_work() -> None:
    """403 unless the user may change deals (sales.work, or sales.manage for managers)."""
    if not (has_permission("sales.work") or has_permission("sales.manage")):
        from core.audit import record_denial

        record_denial("sales.work")
        abort(403)


BIGGEST = 2**63 - 1  # the database's largest integer: a larger number is nobody's id


def int_arg(name: str, source=None) -> int | None:
    """The whole number in ``?name=`` (any digits), or None when it is not one."""
    value = to_latin_digits((source or request.args).get(name, "") or "").strip()
    if not value.isdecimal() or len(value) > len(str(BIGGEST)):
        return None
    number = int(value)
    return number if number <= BIGGEST else None


def active_users() -> list[User]:
    return list(db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.name, User.email)).scalars())


def chosen_pipeline() -> Pipeline | None:
    """The pipeline in ``?pipeline=``, else the first one."""
    ident = int_arg("pipeline")
    found = db.session.get(Pipeline, ident) if ident else None
    return found or services.default_pipeline()


# --- the board -----------------------------------------------------------------------------

def board_filters() -> dict:
    """The board's filters in the query string (kept by its moves and "Show more")."""
    return {"owner": int_arg("owner"), "q": request.args.get("q", "")}


@bp.route("/board")
@require_permission("sales.view")
def board():
    """The kanban board of one pipeline: open deals by stage, with counts and totals."""
    pipeline = chosen_pipeline()
    filters = board_filters()
    columns = queries.board(pipeline, filters) if pipeline else []
    return render_template("sales/board.html", pipeline=pipeline, columns=columns,
                           pipelines=services.pipelines(), users=active_users(),
                           filters=filters, card_limit=queries.CARD_LIMIT,
                           can_move=has_permission("sales.work")
                           or has_permission("sales.manage"))


def _column_text(pipeline: Pipeline) -> dict[str, str]:
    """Each column header's count and totals after a move (board filters in the query
    string), by element id."""
    text = {}
    for column in queries.board(pipeline, board_filters(), limit=0):
        sid = column.stage.id
        text[f"stage-{sid}-count"] = format_number(column.count)
        text[f"stage-{sid}-total"] = format_money(column.total)
        text[f"stage-{sid}-weighted"] = format_money(column.weighted)
    return text


@bp.route("/board/cards")
@require_permission("sales.view")
def board_cards():
    """A column's next cards after the card in ``after_value``/``after_id`` (its "Show more"
    button), and the column's new footer."""
    stage_id = int_arg("stage")
    stage = db.session.get(Stage, stage_id) if stage_id is not None else None
    if stage is None or stage.pipeline_id != int_arg("pipeline"):
        abort(404)
    after = int_arg("after_value"), int_arg("after_id")
    if None in after:
        message = _("after_value and after_id must be whole numbers: the value and the id "
                    "of the last card shown.")
        return message, 400, {"Content-Type": "text/plain; charset=utf-8"}
    filters = board_filters()
    column = queries.stage_cards(stage, filters, after)
    return render_template("sales/_board_cards.html", column=column, pipeline=stage.pipeline,
                           filters=filters, card_limit=queries.CARD_LIMIT, footer=True)


@bp.route("/board/move", methods=["POST"])
@require_permission("sales.view")
def board_move():
    """Move a deal to another stage (the board's drag and drop posts here)."""
    require_work()
    deal_id, stage_id = int_arg("item", request.form), int_arg("to", request.form)
    if deal_id is None or stage_id is None:
        abort(400)
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    try:
        services.move_deal(deal, stage_id, by=current_user)
    except services.PipelineError as exc:
        db.session.rollback()
        message = " ".join(exc.errors.values())
        return message, 409, {"Content-Type": "text/plain; charset=utf-8"}
    db.session.commit()
    return jsonify(deal=deal.id, stage=deal.stage_id, text=_column_text(deal.pipeline))


# --- forecast ------------------------------------------------------------------------------

@bp.route("/forecast")
@require_permission("sales.view")
def forecast():
    """Weighted pipeline by Jalali month of expected close (value × stage probability)."""
    filters = {"pipeline": int_arg("pipeline"), "owner": int_arg("owner")}
    months, undated = queries.forecast(filters)
    unit = display_unit()

    def amounts(values):
        return [float(in_unit(v, unit)) for v in values]

    chart = {"type": "bar", "data": {
        "labels": [jmonth((m.year, m.month)) for m in months],
        "datasets": [
            {"label": _("Weighted (%(unit)s)", unit=UNIT_WORDS[current_locale()][unit]),
             "data": amounts(m.weighted for m in months)},
            {"label": _("Total (%(unit)s)", unit=UNIT_WORDS[current_locale()][unit]),
             "data": amounts(m.total for m in months)},
        ]}}
    return render_template("sales/pipeline_forecast.html", months=months, undated=undated,
                           chart_config=chart, filters=filters,
                           pipelines=services.pipelines(), users=active_users())


# --- pipeline setup ------------------------------------------------------------------------

@bp.route("/pipelines")
@require_permission("sales.manage")
def pipelines():
    """Every pipeline with its stages and their win probability."""
    return render_template("sales/pipeline_list.html", pipelines=services.pipelines())


def _stages_from_form() -> list[dict]:
    """The stage rows of the form, in the order their "order" numbers give."""
    ids = request.form.getlist("stage_id")
    names = request.form.getlist("stage_name")
    chances = request.form.getlist("stage_probability")
    orders = request.form.getlist("stage_order")
    rows = []
    for n, (i, name, chance) in enumerate(zip(ids, names, chances, strict=False)):
        order = to_latin_digits(orders[n] if n < len(orders) else "").strip()
        rows.append((int(order) if order.isdigit() else 1000 + n, n,
                     {"id": int(i) if i.isdigit() else None, "name": name,
                      "probability": chance}))
    return [row for _order, _n, row in sorted(rows, key=lambda r: r[:2])]


def _edit_pipeline(pipeline: Pipeline | None):
    form = PipelineForm(obj=pipeline)
    stages = [{"id": s.id, "name": s.name, "probability": s.probability}
              for s in (pipeline.stages if pipeline else [])]
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        stages = _stages_from_form()
        try:
            pipeline = services.save_pipeline(pipeline, form.name.data, stages)
        except services.PipelineError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("Pipeline %(name)s saved.", name=pipeline.name), "success")
            return redirect(url_for("sales.pipelines"))
    if errors.get("name"):
        form.name.errors = [*form.name.errors, errors.pop("name")]
    stages = stages + [{"id": None, "name": "", "probability": ""}] * 3
    return render_template("sales/pipeline_form.html", form=form, pipeline=pipeline,
                           stages=stages, errors=errors)


@bp.route("/pipelines/new", methods=["GET", "POST"])
@require_permission("sales.manage")
def pipeline_new():
    """Set up a new pipeline and its stages."""
    return _edit_pipeline(None)


@bp.route("/pipelines/<int:pipeline_id>/edit", methods=["GET", "POST"])
@require_permission("sales.manage")
def pipeline_edit(pipeline_id: int):
    """Rename a pipeline; add, rename, reorder or remove its stages."""
    return _edit_pipeline(db.session.get(Pipeline, pipeline_id) or abort(404))
