"""Ticket categories (a small admin list): name, default team, order, active."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.auth.models import Team
from core.auth.permissions import require_permission
from core.extensions import db
from modules.service.models.tickets import Category
from modules.service.views import bp
from modules.service.views.ticket_forms import CategoryForm


def _form(category: Category | None) -> CategoryForm:
    form = CategoryForm(obj=category) if category else CategoryForm()
    form.team_id.choices = [(0, _("No team"))] + [
        (t.id, t.name) for t in db.session.execute(select(Team).order_by(Team.name)).scalars()]
    if category is not None and form.team_id.data is None:
        form.team_id.data = 0
    return form


def _save(form: CategoryForm, category: Category | None) -> Category | None:
    if not form.validate_on_submit():
        return None
    name = form.name.data.strip()
    clash = db.session.execute(select(Category).where(Category.name == name)).scalar()
    if clash is not None and clash is not category:
        form.name.errors = [*form.name.errors, _("Another category has this name.")]
        return None
    category = category or Category()
    category.name = name
    category.team_id = form.team_id.data or None
    category.position = form.position.data or 0
    category.active = bool(form.active.data)
    db.session.add(category)
    db.session.commit()
    return category


@bp.route("/categories")
@require_permission("service.manage")
def categories():
    """Every ticket category with its default team."""
    rows = db.session.execute(select(Category).order_by(Category.position, Category.name)
                              ).scalars().all()
    teams = {t.id: t.name for t in db.session.execute(select(Team)).scalars()}
    return render_template("service/categories.html", categories=rows, teams=teams)


@bp.route("/categories/new", methods=["GET", "POST"])
@require_permission("service.manage")
def category_new():
    """Add a ticket category."""
    form = _form(None)
    if _save(form, None) is not None:
        flash(_("Category saved."), "success")
        return redirect(url_for("service.categories"))
    return render_template("service/category_form.html", form=form, category=None)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@require_permission("service.manage")
def category_edit(category_id: int):
    """Rename a category, change its team, hide it from new tickets."""
    category = db.get_or_404(Category, category_id)
    form = _form(category)
    if _save(form, category) is not None:
        flash(_("Category saved."), "success")
        return redirect(url_for("service.categories"))
    return render_template("service/category_form.html", form=form, category=category)
