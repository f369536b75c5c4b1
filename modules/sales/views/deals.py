"""Deal pages: the filtered list, the deal page with its history, the form, and actions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404
from core.customers.search import customer_choices, visible_customer
from core.extensions import db
from core.pagination import request_page
from modules.sales import board as queries
from modules.sales import pipeline as services
from modules.sales.listing import named_rows
from modules.sales.models.catalog import Product
from modules.sales.models.pipeline import STATUSES, Deal, Pipeline, Stage
from modules.sales.views import bp
from modules.sales.views.pipeline import active_users, int_arg, require_work
from modules.sales.views.pipeline_forms import ActivityForm, CloseForm, DealForm, LineForm


def list_filters() -> dict:
    """The deal list filters in the query string."""
    status = request.args.get("status") or None
    return {"q": request.args.get("q", ""), "pipeline": int_arg("pipeline"),
            "stage": int_arg("stage"), "owner": int_arg("owner"),
            "customer": int_arg("customer"),
            "status": status if status in STATUSES else None,
            "month": queries.parse_month(request.args.get("month")),
            "stale": bool(request.args.get("stale"))}


def _month_choices() -> list[tuple[str, tuple[int, int]]]:
    """The Jalali months from six months ago to a year ahead, for the close-month filter."""
    from core.database import utcnow
    from core.i18n import jalali_month_of

    year, month = jalali_month_of(utcnow())
    index = year * 12 + month - 1 - 6
    months = [divmod(i, 12) for i in range(index, index + 19)]
    return [(f"{y}-{m + 1:02d}", (y, m + 1)) for y, m in months]


@bp.route("/deals")
@require_permission("sales.view")
def deals():
    """Deals the user may see: search, filters (pipeline, stage, owner, close month, status)."""
    filters = list_filters()
    stmt, sort, columns = queries.search(filters, request.args.get("sort"))
    page = named_rows(request_page(stmt, columns), stmt)
    stages = list(db.session.execute(select(Stage).join(Stage.pipeline).order_by(
        Pipeline.position, Stage.pipeline_id, Stage.position)).scalars())
    return render_template("sales/deals.html", page=page, sort=sort, filters=filters,
                           pipelines=services.pipelines(), stages=stages, users=active_users(),
                           months=_month_choices(), stale_days=queries.stale_days(),
                           filtered=any(v for k, v in filters.items()))


@bp.route("/today")
@require_permission("sales.view")
def call_today():
    """Who to call today: stale deals first, then by the customer's priority score."""
    filters = {"owner": int_arg("owner"), "pipeline": int_arg("pipeline")}
    stmt, columns = queries.call_list(filters)
    page = request_page(stmt, columns)
    return render_template("sales/deals_today.html", page=page, filters=filters,
                           pipelines=services.pipelines(), users=active_users(),
                           stale_days=queries.stale_days())


@bp.route("/deals/customer-options")
@require_permission("sales.view")
def customer_options():
    """<option>s of the customers the user may see that match ``q`` (for the deal form)."""
    query = request.args.get("customer_q", "")
    return render_template("sales/deal_form_customers.html", customers=customer_choices(query),
                           query=query)


def _deal_form(deal: Deal | None) -> DealForm:
    form = DealForm()
    stages = db.session.execute(select(Stage).join(Stage.pipeline).order_by(
        Pipeline.position, Stage.pipeline_id, Stage.position)).scalars()
    form.stage_id.choices = [(s.id, f"{s.pipeline.name} › {s.name}") for s in stages]
    form.owner_id.choices = [(0, _("Nobody"))] + [(u.id, u.name or u.email)
                                                  for u in active_users()]
    customer = deal.customer if deal else visible_customer(int_arg("customer"))
    if request.method == "POST":
        customer = visible_customer(form.customer_id.data if form.customer_id.data
                                     else None) or customer
    form.customer_id.choices = [(customer.id, customer.display_name)] if customer else []
    if request.method == "GET":
        if deal is not None:
            form.fill_from(deal)
        else:
            form.owner_id.data = current_user.id
            if customer:
                form.customer_id.data = customer.id
            pipeline = db.session.get(Pipeline, int_arg("pipeline") or 0)
            if pipeline and pipeline.stages:
                form.stage_id.data = pipeline.stages[0].id
    return form


def _save(form: DealForm, deal: Deal | None) -> Deal | None:
    if not form.validate_on_submit():
        return None
    values = form.service_values()
    if visible_customer(values["customer_id"]) is None:
        form.customer_id.errors = [*form.customer_id.errors, _("Choose the customer.")]
        return None
    stage = db.session.get(Stage, values["stage_id"])
    values["pipeline_id"] = stage.pipeline_id if stage else None
    try:
        if deal is None:
            deal = services.create_deal(by=current_user, **values)
        else:
            services.update_deal(deal, by=current_user, **values)
    except services.PipelineError as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            field = getattr(form, "stage_id" if name == "pipeline_id" else name, None)
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                form.form_errors.append(message)
        return None
    db.session.commit()
    return deal


@bp.route("/deals/new", methods=["GET", "POST"])
@require_permission("sales.view")
def deal_new():
    """Open a new deal (from the board, a customer page or the list)."""
    require_work()
    if services.default_pipeline() is None:
        flash(_("Set up a pipeline before adding deals."), "warning")
        return redirect(url_for("sales.pipelines") if _can_manage()
                        else url_for("sales.board"))
    form = _deal_form(None)
    deal = _save(form, None)
    if deal is not None:
        flash(_("Deal %(title)s added.", title=deal.title), "success")
        return redirect(url_for("sales.deal_show", deal_id=deal.id))
    return render_template("sales/deal_form.html", form=form, deal=None)


def _can_manage() -> bool:
    from core.auth.permissions import has_permission

    return has_permission("sales.manage")


@bp.route("/deals/<int:deal_id>/edit", methods=["GET", "POST"])
@require_permission("sales.view")
def deal_edit(deal_id: int):
    """Change a deal's title, customer, value, stage, close date, owner, source, campaign."""
    require_work()
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    form = _deal_form(deal)
    if _save(form, deal) is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("sales.deal_show", deal_id=deal.id))
    return render_template("sales/deal_form.html", form=form, deal=deal)


def _line_form() -> LineForm:
    form = LineForm()
    form.product_id.choices = [(pid, f"{name} ({code})") for pid, code, name in db.session.execute(
        select(Product.id, Product.code, Product.name).where(Product.active.is_(True))
        .order_by(Product.name).limit(1000))]
    return form


@bp.route("/deals/<int:deal_id>")
@require_permission("sales.view")
def deal_show(deal_id: int):
    """A deal: customer, value, stage, products, activities and its whole history."""
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    users = {u.id: u for u in active_users()}
    return render_template("sales/deal.html", deal=deal, history=services.history(deal),
                           activity_form=ActivityForm(), close_form=CloseForm(),
                           line_form=_line_form(), users=users,
                           customer_visible=visible_customer(deal.customer_id) is not None)


def _back(deal: Deal):
    return redirect(url_for("sales.deal_show", deal_id=deal.id))


def _flash_errors(exc: services.PipelineError) -> None:
    db.session.rollback()
    flash(" ".join(exc.errors.values()), "danger")


@bp.route("/deals/<int:deal_id>/stage", methods=["POST"])
@require_permission("sales.view")
def deal_stage(deal_id: int):
    """Move the deal to another stage (the same as dragging it on the board)."""
    require_work()
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    try:
        services.move_deal(deal, int_arg("stage_id", request.form) or 0, by=current_user)
    except services.PipelineError as exc:
        _flash_errors(exc)
    else:
        db.session.commit()
        flash(_("Moved to %(stage)s.", stage=deal.stage.name), "success")
    return _back(deal)


@bp.route("/deals/<int:deal_id>/close", methods=["POST"])
@require_permission("sales.view")
def deal_close(deal_id: int):
    """Mark the deal won, or lost with the reason and the competitor."""
    require_work()
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    form = CloseForm()
    if not form.validate_on_submit():
        flash(" ".join(e for f in form for e in f.errors) or _("Choose won or lost."), "danger")
        return _back(deal)
    try:
        services.close_deal(deal, form.status.data, lost_reason=form.lost_reason.data,
                            competitor=form.competitor.data, by=current_user)
    except services.PipelineError as exc:
        _flash_errors(exc)
    else:
        db.session.commit()
        flash(_("Deal won.") if deal.status == "won" else _("Deal marked lost."), "success")
    return _back(deal)


@bp.route("/deals/<int:deal_id>/reopen", methods=["POST"])
@require_permission("sales.view")
def deal_reopen(deal_id: int):
    """Put a won or lost deal back in its stage."""
    require_work()
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    services.reopen_deal(deal, by=current_user)
    db.session.commit()
    flash(_("Deal reopened."), "success")
    return _back(deal)


@bp.route("/deals/<int:deal_id>/activities", methods=["POST"])
@require_permission("sales.view")
def deal_activity(deal_id: int):
    """Log a note, call, meeting or email on the deal."""
    require_work()
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    form = ActivityForm()
    if not form.validate_on_submit():
        flash(_("Write what happened."), "danger")
        return _back(deal)
    try:
        services.add_activity(deal, form.kind.data, form.body.data, by=current_user)
    except services.PipelineError as exc:
        _flash_errors(exc)
    else:
        db.session.commit()
        flash(_("Activity logged."), "success")
    return _back(deal)


def _current_lines(deal: Deal) -> list[dict]:
    return [{"product_id": li.product_id, "quantity": li.quantity, "unit_price": li.unit_price}
            for li in deal.lines]


@bp.route("/deals/<int:deal_id>/lines", methods=["POST"])
@require_permission("sales.view")
def deal_line_add(deal_id: int):
    """Add a product to the deal (its price from the customer's price list unless typed)."""
    require_work()
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    form = _line_form()
    if not form.validate_on_submit():
        flash(" ".join(e for f in form for e in f.errors) or _("Choose a product."), "danger")
        return _back(deal)
    lines = _current_lines(deal) + [{"product_id": form.product_id.data,
                                     "quantity": form.quantity.data,
                                     "unit_price": form.unit_price.data}]
    try:
        services.set_lines(deal, lines, by=current_user)
    except services.PipelineError as exc:
        _flash_errors(exc)
    else:
        db.session.commit()
        flash(_("Product added."), "success")
    return _back(deal)


@bp.route("/deals/<int:deal_id>/lines/<int:index>/delete", methods=["POST"])
@require_permission("sales.view")
def deal_line_delete(deal_id: int, index: int):
    """Take a product off the deal."""
    require_work()
    deal = get_scoped_or_404(Deal, deal_id, "sales")
    lines = _current_lines(deal)
    if not 0 <= index < len(lines):
        abort(404)
    del lines[index]
    services.set_lines(deal, lines, by=current_user)
    db.session.commit()
    flash(_("Product removed."), "success")
    return _back(deal)
