"""Marketing pages: the segment list, the rule builder (live count) and segment forms."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import defer
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from core import jobs
from core.auth.permissions import require_permission
from core.extensions import db
from core.i18n import normalize
from core.pagination import request_page
from core.ui import row_urls
from modules.marketing import segments as services
from modules.marketing.models.segments import Segment
from modules.marketing.views import (
    bp,
    segment_members,  # noqa: F401 - its routes
)
from modules.marketing.views.segment_builder import builder_context, display_tree, tree_from_form

RECOUNT = 5  # stale counts worked out per view when jobs run inline (else the worker does)
KINDS = [("dynamic", _l("By rules (updates itself)")), ("static", _l("A fixed list"))]


class SegmentForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)])
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    kind = SelectField(_l("Kind"), choices=KINDS, default="dynamic")


@bp.route("/segments")
@require_permission("marketing.view")
def segments():
    """Segments by name with their member counts (recounted when stale)."""
    query = (request.args.get("q") or "").strip()
    stmt = select(Segment).options(defer(Segment.rules))  # loaded only to recount
    if query:
        stmt = stmt.where(Segment.name.contains(normalize(query), autoescape=True)
                          | Segment.name.contains(query, autoescape=True))
    page = request_page(stmt, [Segment.name, Segment.id])
    if jobs.is_inline():  # no worker recounts them: a few stale ones per view
        services.recount_stale(list(page), RECOUNT)
    return render_template("marketing/segments.html", page=page, query=query,
                           urls=segment_urls(s.id for s in page))


def segment_urls(ids) -> dict[int, str]:
    """The page link of each segment id (the route is built once, not once per row)."""
    return row_urls("marketing.segment_show", "segment_id", ids)


def live_count(tree: dict) -> dict:
    """The builder's count: how many customers match now, or why the rules are incomplete."""
    try:
        clean = services.validate(tree)
    except services.RuleError as exc:
        return {"count": None, "error": services.rule_message(exc)}
    probe = Segment(kind="dynamic", rules=clean)
    stmt = select(func.count()).select_from(services.members_statement(probe).subquery())
    return {"count": db.session.execute(stmt).scalar_one(), "error": None}


def _form_page(segment: Segment | None):
    form = SegmentForm(obj=segment)
    if segment is not None:
        form.kind.data = segment.kind
    tree = display_tree(segment.rules if segment and segment.rules else services.empty_rules())
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        kind = segment.kind if segment else form.kind.data
        posted = tree_from_form(request.form)
        try:
            saved = services.save(segment, name=form.name.data,
                                  description=form.description.data, kind=kind,
                                  rules=posted if kind == "dynamic" else None,
                                  by_id=current_user.id)
        except services.SegmentError as exc:
            db.session.rollback()
            errors, tree = exc.errors, posted
            for name, message in errors.items():
                if name in form and name != "rules":
                    form[name].errors = [*form[name].errors, message]
        else:
            db.session.commit()
            flash(_("Segment saved."), "success")
            return redirect(url_for("marketing.segment_show", segment_id=saved.id))
    elif request.method == "POST":
        tree = tree_from_form(request.form)
    counted = live_count(tree) if not errors.get("rules") else {"count": None,
                                                                  "error": errors["rules"]}
    return render_template("marketing/segment_form.html", form=form, segment=segment,
                           tree=tree, live=counted, **builder_context())


@bp.route("/segments/new", methods=["GET", "POST"])
@require_permission("marketing.manage")
def segment_new():
    """A new segment: by rules (with a live count) or a fixed list."""
    return _form_page(None)


@bp.route("/segments/<int:segment_id>/edit", methods=["GET", "POST"])
@require_permission("marketing.manage")
def segment_edit(segment_id: int):
    """Change a segment's name, description and rules."""
    return _form_page(db.session.get(Segment, segment_id) or abort(404))


@bp.route("/segments/builder", methods=["POST"])
@require_permission("marketing.manage")
def segment_builder():
    """The rule builder after adding or removing a row or changing a field (htmx)."""
    tree = tree_from_form(request.form, request.form.get("action", ""))
    return render_template("marketing/segment_builder.html", tree=tree, live=live_count(tree),
                           **builder_context())


@bp.route("/segments/count", methods=["POST"])
@require_permission("marketing.manage")
def segment_count():
    """The live count of the rules being edited (htmx)."""
    return render_template("marketing/segment_count.html",
                           live=live_count(tree_from_form(request.form)))
