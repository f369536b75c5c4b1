"""Saved view pages: save the current list, open a view, rename, share or delete one's own."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from core.auth.permissions import require_permission
from core.customers import saved_views
from core.customers.views import bp
from core.extensions import db


class SaveViewForm(FlaskForm):
    name = StringField(_l("Name of the view"),
                       validators=[DataRequired(), Length(max=saved_views.NAME_LENGTH)])
    shared = BooleanField(_l("Share with everyone"))
    query = HiddenField()


class RenameViewForm(FlaskForm):
    name = StringField(_l("Name of the view"),
                       validators=[DataRequired(), Length(max=saved_views.NAME_LENGTH)])
    shared = BooleanField(_l("Share with everyone"))


class DeleteViewForm(FlaskForm):
    """No fields: CSRF only."""


def _list_url(query: str) -> str:
    return url_for("customers.index") + ("?" + query if query else "")


def _errors(form: FlaskForm) -> str:
    return " ".join(e for f in form for e in f.errors) or _("The form is not valid.")


@bp.route("/views", methods=["POST"])
@require_permission("customers.view")
def save_view():
    """Save the current list query under a name (private, or shared with everyone)."""
    form = SaveViewForm()
    query = saved_views.clean_query(form.query.data or "")
    if not form.validate_on_submit():
        flash(_errors(form), "danger")
        return redirect(_list_url(query))
    try:
        view = saved_views.save_view(current_user.id, form.name.data, query,
                                     shared=form.shared.data)
    except saved_views.SavedViewError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(_list_url(query))
    db.session.commit()
    flash(_("View %(name)s saved.", name=view.name), "success")
    return redirect(url_for("customers.open_view", view_id=view.id))


@bp.route("/views/<int:view_id>")
@require_permission("customers.view")
def open_view(view_id: int):
    """Open a saved view: the list with its search, filters, sort and columns."""
    view = saved_views.visible_view_or_404(view_id, current_user.id)
    return redirect(_list_url(view.query))


@bp.route("/views")
@require_permission("customers.view")
def saved_views_page():
    """The user's saved views (rename, share, delete) and the views others share."""
    views = saved_views.visible_views(current_user.id)
    forms = {}
    for view in views:
        if view.user_id == current_user.id:
            forms[view.id] = RenameViewForm(prefix=f"v{view.id}", name=view.name,
                                            shared=view.shared)
    return render_template("customers/saved_views.html", views=views, forms=forms,
                           delete_form=DeleteViewForm())


@bp.route("/views/<int:view_id>/rename", methods=["POST"])
@require_permission("customers.view")
def rename_view(view_id: int):
    """Rename one's own view, or change whether it is shared."""
    view = saved_views.own_view_or_404(view_id, current_user.id)
    form = RenameViewForm(prefix=f"v{view.id}")
    if not form.validate_on_submit():
        flash(_errors(form), "danger")
        return redirect(url_for("customers.saved_views_page"))
    try:
        saved_views.rename_view(view, form.name.data, shared=form.shared.data)
    except saved_views.SavedViewError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("customers.saved_views_page"))
    db.session.commit()
    flash(_("View saved as %(name)s.", name=view.name), "success")
    return redirect(url_for("customers.saved_views_page"))


@bp.route("/views/<int:view_id>/delete", methods=["POST"])
@require_permission("customers.view")
def delete_view(view_id: int):
    """Delete one's own view."""
    view = saved_views.own_view_or_404(view_id, current_user.id)
    if not DeleteViewForm().validate_on_submit():
        flash(_("The form has expired; try again."), "danger")
        return redirect(url_for("customers.saved_views_page"))
    name = view.name
    saved_views.delete_view(view)
    db.session.commit()
    flash(_("View %(name)s deleted.", name=name), "success")
    return redirect(url_for("customers.saved_views_page"))
