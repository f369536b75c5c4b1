"""Marketing pages: competitors (list, form, page with products, prices, notes, lost deals)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from core.auth.permissions import require_permission
from core.extensions import db
from core.fields import JalaliDateField, MoneyField
from core.i18n import normalize
from core.modules import is_active
from core.pagination import request_page
from modules.marketing import competitors as services
from modules.marketing.models.competitors import Competitor, CompetitorProduct
from modules.marketing.views import bp


class CompetitorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)],
                       description=_l("As your sales team writes it when a deal is lost to "
                                      "them; spelling variants of ی/ي and spaces still match."))
    website = StringField(_l("Website"), validators=[Length(max=300)])
    strengths = TextAreaField(_l("Strengths"))
    weaknesses = TextAreaField(_l("Weaknesses"))
    notes = TextAreaField(_l("Notes"))


class ProductForm(FlaskForm):
    name = StringField(_l("Product"), validators=[DataRequired(), Length(max=200)])
    price = MoneyField(_l("Price"), validators=[Optional()])
    seen_on = JalaliDateField(_l("Seen on"), validators=[Optional()])
    notes = StringField(_l("Notes"), validators=[Length(max=500)])


class NoteForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Note"))


@bp.route("/competitors", endpoint="competitors")
@require_permission("marketing.view")
def competitors_list():
    """Competitors by name, with products and the deals lost to them."""
    stmt = select(Competitor)
    q = request.args.get("q", "").strip()
    if q:
        ids = [c.id for c in db.session.execute(select(Competitor)).scalars()
               if normalize(q) in normalize(f"{c.name} {c.website} {c.strengths}")]
        stmt = stmt.where(Competitor.id.in_(ids))
    page = request_page(stmt, [Competitor.name, Competitor.id])
    items = list(page)
    return render_template("marketing/competitors.html", page=page, q=q,
                           products=services.product_counts([c.id for c in items]),
                           lost=services.lost_counts(items), with_sales=is_active("sales"))


def _edit(competitor: Competitor | None):
    form = CompetitorForm(obj=competitor)
    if form.validate_on_submit():
        try:
            competitor = services.save_competitor(competitor, **{
                k: getattr(form, k).data for k in services.FIELDS})
        except services.CompetitorError as error:
            for name, message in error.errors.items():
                getattr(form, name).errors = [message]
        else:
            db.session.commit()
            flash(_("Competitor saved."), "success")
            return redirect(url_for("marketing.competitor", competitor_id=competitor.id))
    return render_template("marketing/competitor_form.html", form=form, competitor=competitor)


@bp.route("/competitors/new", methods=["GET", "POST"])
@require_permission("marketing.manage")
def competitor_new():
    """Add a competitor."""
    return _edit(None)


@bp.route("/competitors/<int:competitor_id>/edit", methods=["GET", "POST"])
@require_permission("marketing.manage")
def competitor_edit(competitor_id: int):
    """Change a competitor."""
    return _edit(db.get_or_404(Competitor, competitor_id))


@bp.route("/competitors/<int:competitor_id>")
@require_permission("marketing.view")
def competitor(competitor_id: int):
    """A competitor: strengths, products and prices, notes, deals lost to them."""
    item = db.get_or_404(Competitor, competitor_id)
    return _show(item, ProductForm(), NoteForm())


def _show(item: Competitor, product_form: ProductForm, note_form: NoteForm):
    sales_deal = None
    if is_active("sales"):
        sales_deal = lambda deal_id: url_for("sales.deal_show", deal_id=deal_id)  # noqa: E731
    return render_template("marketing/competitor.html", competitor=item,
                           product_form=product_form, note_form=note_form,
                           notes=services.notes_of(item), deals=services.lost_deals(item),
                           with_sales=sales_deal is not None, deal_url=sales_deal)


@bp.route("/competitors/<int:competitor_id>/products", methods=["POST"])
@require_permission("marketing.manage")
def competitor_product_add(competitor_id: int):
    """Add a product and its price."""
    item = db.get_or_404(Competitor, competitor_id)
    form = ProductForm()
    if not form.validate_on_submit():
        return _show(item, form, NoteForm()), 422
    services.add_product(item, name=form.name.data, price=form.price.data,
                         seen_on=form.seen_on.data, notes=form.notes.data)
    db.session.commit()
    flash(_("Product added."), "success")
    return redirect(url_for("marketing.competitor", competitor_id=item.id))


@bp.route("/competitors/<int:competitor_id>/products/<int:product_id>/delete",
          methods=["POST"])
@require_permission("marketing.manage")
def competitor_product_delete(competitor_id: int, product_id: int):
    """Remove a product."""
    product = db.get_or_404(CompetitorProduct, product_id)
    if product.competitor_id != competitor_id:
        return redirect(url_for("marketing.competitors"))
    db.session.delete(product)
    db.session.commit()
    flash(_("Product removed."), "success")
    return redirect(url_for("marketing.competitor", competitor_id=competitor_id))


@bp.route("/competitors/<int:competitor_id>/notes", methods=["POST"])
@require_permission("marketing.manage")
def competitor_note_add(competitor_id: int):
    """Add a market note about this competitor."""
    item = db.get_or_404(Competitor, competitor_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _show(item, ProductForm(formdata=None), form), 422
    services.add_note(form.title.data, form.body.data, item, author_id=current_user.id)
    db.session.commit()
    flash(_("Note added."), "success")
    return redirect(url_for("marketing.competitor", competitor_id=item.id))


@bp.route("/competitors/<int:competitor_id>/delete", methods=["POST"])
@require_permission("marketing.manage")
def competitor_delete(competitor_id: int):
    """Delete a competitor with its products (notes stay, without the link)."""
    item = db.get_or_404(Competitor, competitor_id)
    db.session.delete(item)
    db.session.commit()
    flash(_("Competitor deleted."), "success")
    return redirect(url_for("marketing.competitors"))
