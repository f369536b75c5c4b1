"""Marketing pages: a segment's members, static list editing, CSV import/export, delete."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.auth.scope import scoped
from core.customers.models import Customer
from core.customers.search import text_condition
from core.extensions import db
from core.pagination import request_page
from modules.marketing import segment_lists, segments
from modules.marketing.models.segments import Segment
from modules.marketing.views import bp
from modules.marketing.views.segment_builder import builder_context, display_tree

MAX_UPLOAD = 5 * 1024 * 1024


class ImportForm(FlaskForm):
    file = FileField(_l("CSV file of mobiles or emails"), validators=[FileRequired()])


class ConfirmForm(FlaskForm):
    """Only the CSRF token: add/remove members, delete."""


def _segment(segment_id: int) -> Segment:
    return db.session.get(Segment, segment_id) or abort(404)


@bp.route("/segments/<int:segment_id>")
@require_permission("marketing.view")
def segment_show(segment_id: int):
    """A segment: its rules or list tools, the count and the members you may see."""
    segment = _segment(segment_id)
    total = segments.count(segment)
    db.session.commit()
    stmt = scoped(segments.members(segment), Customer, "customers")
    page = request_page(stmt, [Customer.display_name, Customer.id])
    return render_template("marketing/segment_show.html", segment=segment, page=page,
                           total=total, tree=display_tree(segment.rules or {}),
                           import_form=ImportForm(), confirm=ConfirmForm(), **builder_context())


@bp.route("/segments/<int:segment_id>/export.csv")
@require_permission("marketing.view")
def segment_export(segment_id: int):
    """The members as CSV, with headers in the user's language."""
    segment = _segment(segment_id)
    return Response(segment_lists.export_csv(segment), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="segment-'
                                                    f'{segment.id}.csv"'})


def _static(segment_id: int) -> Segment:
    segment = _segment(segment_id)
    if segment.kind != "static":
        abort(404)
    return segment


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


@bp.route("/segments/<int:segment_id>/members", methods=["POST"])
@require_permission("marketing.manage")
def segment_members_change(segment_id: int):
    """Add (``add=<id>``) or remove (``remove=<id>``) customers of a static list."""
    segment = _static(segment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    added = segment_lists.add_members(segment, _ids(request.form.getlist("add")))
    removed = segment_lists.remove_members(segment, _ids(request.form.getlist("remove")))
    db.session.commit()
    if added:
        flash(_("%(n)s customers added to the list.", n=added), "success")
    if removed:
        flash(_("%(n)s customers removed from the list.", n=removed), "success")
    return redirect(url_for("marketing.segment_show", segment_id=segment.id))


@bp.route("/segments/<int:segment_id>/customer-options")
@require_permission("marketing.manage")
def segment_customer_options(segment_id: int):
    """Customers matching a search, to add to a static list (htmx)."""
    segment = _static(segment_id)
    condition = text_condition(request.args.get("q") or "")
    found = []
    if condition is not None:
        stmt = scoped(select(Customer), Customer, "customers").where(
            condition, Customer.anonymised_at.is_(None)).order_by(Customer.display_name)
        found = list(db.session.execute(stmt.limit(20)).unique().scalars())
    return render_template("marketing/segment_customer_options.html", segment=segment,
                           found=found, confirm=ConfirmForm())


@bp.route("/segments/<int:segment_id>/import", methods=["POST"])
@require_permission("marketing.manage")
def segment_import(segment_id: int):
    """Add the customers whose mobiles or emails are in an uploaded CSV."""
    segment = _static(segment_id)
    form = ImportForm()
    if not form.validate_on_submit():
        flash(_("Choose a CSV file."), "danger")
        return redirect(url_for("marketing.segment_show", segment_id=segment.id))
    raw = form.file.data.read(MAX_UPLOAD + 1)
    try:
        if len(raw) > MAX_UPLOAD:
            raise ValueError(_("The file is larger than 5 MB."))
        added, unmatched = segment_lists.import_contacts(segment, raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        flash(str(exc) if isinstance(exc, ValueError) and not isinstance(
            exc, UnicodeDecodeError) else _("Save the file as UTF-8 CSV."), "danger")
        return redirect(url_for("marketing.segment_show", segment_id=segment.id))
    db.session.commit()
    flash(_("%(n)s customers added from the file.", n=added), "success")
    if unmatched:
        flash(_("%(n)s values matched no customer: %(values)s", n=len(unmatched),
                values="، ".join(unmatched[:10])), "warning")
    return redirect(url_for("marketing.segment_show", segment_id=segment.id))


@bp.route("/segments/<int:segment_id>/delete", methods=["GET", "POST"])
@require_permission("marketing.manage")
def segment_delete(segment_id: int):
    """Ask, then delete a segment (its customers stay)."""
    segment = _segment(segment_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        db.session.delete(segment)
        db.session.commit()
        flash(_("Segment deleted."), "success")
        return redirect(url_for("marketing.segments"))
    return render_template("marketing/segment_delete.html", segment=segment, form=form)
