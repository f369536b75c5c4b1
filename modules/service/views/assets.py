"""Installed base pages: items customers own, their warranty, and the warranty terms."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import func, or_, select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from core.auth.permissions import has_permission, require_permission
from core.customers.models import Customer
from core.customers.search import customer_choices, visible_customers
from core.database import utcnow
from core.extensions import db
from core.fields import DigitsIntegerField, JalaliDateField
from core.i18n import local_date, normalize
from core.modules import is_active
from core.pagination import request_page, sort_columns
from modules.service import installed
from modules.service.kb import like_pattern
from modules.service.models.assets import InstalledItem, WarrantyTerm
from modules.service.views import bp

SORTS = {"created": InstalledItem.created_at, "product": InstalledItem.product_name}


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "", "0") else None
    except (TypeError, ValueError):
        return None


class ItemForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), coerce=_int, validate_choice=False)
    product_id = SelectField(_l("Product in the catalogue"), coerce=_int, validate_choice=False)
    product_name = StringField(_l("Product"), validators=[Length(max=200)],
                               description=_l("Filled from the catalogue when left empty."))
    serial = StringField(_l("Serial number"), validators=[Length(max=80)])
    purchased_on = JalaliDateField(_l("Bought on"), validators=[Optional()])
    warranty_until = JalaliDateField(
        _l("Warranty until"), validators=[Optional()],
        description=_l("Leave empty to count the product's warranty term from the purchase."))
    notes = TextAreaField(_l("Notes"), validators=[Length(max=500)], render_kw={"rows": 2})


class TermForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=_int, validate_choice=False)
    months = DigitsIntegerField(_l("Warranty (months)"), validators=[Optional()],
                                description=_l("Leave empty to remove the term."))


def _products() -> list:
    return installed._sales().products_for_choice() if is_active("sales") else []


@bp.route("/assets", endpoint="assets")
@require_permission("service.view")
def assets_index():
    """The installed base: search by serial, product or customer; filter by warranty."""
    stmt = (select(InstalledItem, Customer).join(Customer, Customer.id == InstalledItem.customer_id)
            .where(InstalledItem.customer_id.in_(visible_customers())))
    query = request.args.get("q", "")
    for word in normalize(query).split():
        stmt = stmt.where(or_(Customer.search_key.like(like_pattern(word), escape="\\"),
                              func.upper(InstalledItem.serial).like(
                                  like_pattern(installed.canonical_serial(word)), escape="\\"),
                              func.lower(InstalledItem.product_name).like(
                                  like_pattern(word), escape="\\")))
    today = local_date(utcnow())
    coverage = request.args.get("coverage", "")
    if coverage == "covered":
        stmt = stmt.where(InstalledItem.warranty_until >= today)
    elif coverage == "expired":
        stmt = stmt.where(InstalledItem.warranty_until < today)
    elif coverage == "unknown":
        stmt = stmt.where(InstalledItem.warranty_until.is_(None))
    source = request.args.get("source", "")
    if source in ("manual", "invoice"):
        stmt = stmt.where(InstalledItem.source == source)
    sort, columns = sort_columns(request.args.get("sort"), SORTS, "-created", InstalledItem.id)
    page = request_page(stmt, columns)
    return render_template("service/assets.html", page=page, sort=sort, today=today,
                           coverage=coverage, source=source,
                           filtered=bool(query or coverage or source),
                           labels=installed.STATUS_LABELS)


def _item_form(item: InstalledItem | None) -> ItemForm:
    form = ItemForm(obj=item if request.method == "GET" else None)
    customer_id = form.customer_id.data or (item.customer_id if item else None) or _int(
        request.args.get("customer"))
    customer = _customer(customer_id)
    form.customer_id.choices = [(customer.id, customer.display_name)] if customer else [
        (0, _("Type to find the customer"))]
    if request.method == "GET" and customer:
        form.customer_id.data = customer.id
    form.product_id.choices = [(0, _("Not in the catalogue"))] + [
        (p.id, f"{p.name} ({p.code})") for p in _products()]
    return form


def _customer(customer_id) -> Customer | None:
    if not customer_id:
        return None
    return db.session.execute(select(Customer).where(
        Customer.id == customer_id, Customer.id.in_(visible_customers()))).scalar()


def _save(form: ItemForm, item: InstalledItem | None) -> InstalledItem | None:
    if not form.validate_on_submit():
        return None
    customer = _customer(form.customer_id.data)
    if customer is None:
        form.customer_id.errors = [*form.customer_id.errors, _("Choose the customer.")]
        return None
    name = (form.product_name.data or "").strip()
    if not name and form.product_id.data:
        product = installed._sales().products_by_ids([form.product_id.data]).get(
            form.product_id.data) if is_active("sales") else None
        name = product.name if product else ""
    try:
        item = installed.save_item(
            item, customer_id=customer.id, product_name=name, serial=form.serial.data or "",
            purchased_on=form.purchased_on.data, warranty_until=form.warranty_until.data,
            product_id=form.product_id.data, notes=form.notes.data or "")
    except installed.AssetError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return None
    db.session.commit()
    return item


@bp.route("/assets/new", methods=["GET", "POST"])
@require_permission("service.work")
def asset_new():
    """Record an item a customer owns (bought elsewhere, or before the CRM)."""
    form = _item_form(None)
    item = _save(form, None)
    if item is not None:
        flash(_("Item added to the installed base."), "success")
        return redirect(url_for("service.assets", q=item.serial or None))
    return render_template("service/assets_form.html", form=form, item=None)


@bp.route("/assets/<int:item_id>/edit", methods=["GET", "POST"])
@require_permission("service.work")
def asset_edit(item_id: int):
    """Change an item: its serial, dates or notes."""
    item = db.session.get(InstalledItem, item_id)
    if item is None or _customer(item.customer_id) is None:
        abort(404)
    form = _item_form(item)
    if _save(form, item) is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("service.assets", q=item.serial or None))
    return render_template("service/assets_form.html", form=form, item=item)


@bp.route("/assets/customer-options")
@require_permission("service.work")
def asset_customer_options():
    """<option>s of the customers the user may see that match ``customer_q``."""
    query = request.args.get("customer_q", "")
    found = customer_choices(query)
    return render_template("service/assets_customer_options.html", customers=found,
                           query=query)


@bp.route("/assets/warranty-terms", methods=["GET", "POST"])
@require_permission("service.manage")
def asset_terms():
    """Warranty length per product, and the default for products without one."""
    form = TermForm()
    products = _products()
    form.product_id.choices = [(0, _("Default (every other product)"))] + [
        (p.id, f"{p.name} ({p.code})") for p in products]
    if form.validate_on_submit():
        months = form.months.data
        if months is not None and not 1 <= months <= 240:
            form.months.errors = [*form.months.errors, _("From 1 to 240 months.")]
        else:
            product_id = form.product_id.data
            term = db.session.execute(select(WarrantyTerm).where(
                WarrantyTerm.product_id.is_(None) if product_id is None
                else WarrantyTerm.product_id == product_id)).scalar()
            if months is None:
                if term is not None:
                    db.session.delete(term)
            elif term is None:
                db.session.add(WarrantyTerm(product_id=product_id, months=months))
            else:
                term.months = months
            db.session.commit()
            flash(_("Warranty terms saved. They apply to items recorded from now on."),
                  "success")
            return redirect(url_for("service.asset_terms"))
    terms = list(db.session.execute(select(WarrantyTerm).order_by(
        WarrantyTerm.product_id.is_not(None), WarrantyTerm.id)).scalars())
    names = {p.id: p.name for p in products}
    if is_active("sales"):
        missing = [t.product_id for t in terms if t.product_id and t.product_id not in names]
        names.update({pid: p.name for pid, p in
                      installed._sales().products_by_ids(missing).items()})
    return render_template("service/assets_terms.html", form=form, terms=terms, names=names)


def customer_panel(customer) -> Markup | None:
    """The customer's installed items with their warranty, on the 360 page."""
    if not has_permission("service.view"):
        return None
    items = list(db.session.execute(
        select(InstalledItem).where(InstalledItem.customer_id == customer.id)
        .order_by(InstalledItem.purchased_on.desc().nulls_last(), InstalledItem.id.desc())
        .limit(20)).scalars())
    if not items and not has_permission("service.work"):
        return None
    return Markup(render_template("service/assets_panel.html", customer=customer, items=items,
                                  today=local_date(utcnow()), labels=installed.STATUS_LABELS))
