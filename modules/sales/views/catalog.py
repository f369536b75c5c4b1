"""Catalogue pages: products and services, price lists and their prices, discount limits."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from core.auth.models import Role
from core.auth.permissions import require_permission
from core.extensions import db
from core.i18n import normalize, to_latin_digits
from core.pagination import request_page, sort_columns
from modules.sales import catalog
from modules.sales.models.catalog import PriceList, PriceListItem, Product, ProductCategory
from modules.sales.views import bp
from modules.sales.views.catalog_forms import ListPriceForm, PriceListForm, ProductForm

PRODUCT_SORTS = {"name": Product.name, "code": Product.code, "price": Product.price,
                 "created": Product.created_at}
LIST_SORTS = {"name": PriceList.name, "priority": PriceList.priority}


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _int_arg(name: str) -> int | None:
    value = to_latin_digits(request.args.get(name, ""))
    return int(value) if value.isdigit() else None


def _categories() -> list[ProductCategory]:
    return list(db.session.execute(
        select(ProductCategory).order_by(ProductCategory.name)).scalars())


def _errors_onto(form, exc: catalog.CatalogError) -> None:
    db.session.rollback()
    for name, message in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


# --- products ------------------------------------------------------------------------------

@bp.route("/products")
@require_permission("sales.view")
def products():
    """The catalogue: search by code or name; filter by category, kind, tax and on sale."""
    filters = {"category": _int_arg("category"), "kind": request.args.get("kind") or None,
               "tax": request.args.get("tax") or None,
               "active": request.args.get("active") or None}
    stmt = select(Product)
    for word in normalize(request.args.get("q", "")).split():
        stmt = stmt.where(Product.search_key.like(_like(word), escape="\\"))
    if filters["category"]:
        stmt = stmt.where(Product.category_id == filters["category"])
    if filters["kind"]:
        stmt = stmt.where(Product.kind == filters["kind"])
    if filters["tax"]:
        stmt = stmt.where(Product.tax_category == filters["tax"])
    if filters["active"] in ("yes", "no"):
        stmt = stmt.where(Product.active.is_(filters["active"] == "yes"))
    sort, columns = sort_columns(request.args.get("sort"), PRODUCT_SORTS, "name", Product.id)
    page = request_page(stmt, columns)
    return render_template("sales/products.html", page=page, sort=sort, filters=filters,
                           categories=_categories(),
                           filtered=bool(request.args.get("q") or any(filters.values())))


def _product_form(product: Product | None) -> ProductForm:
    form = ProductForm()
    form.category_id.choices = [(0, _("No category"))] + [(c.id, c.name)
                                                          for c in _categories()]
    others = select(Product.id, Product.code, Product.name).where(
        Product.active.is_(True)).order_by(Product.name).limit(500)
    if product is not None:
        others = others.where(Product.id != product.id)
    form.upgrade_to_id.choices = [(0, _("None"))] + [
        (pid, f"{name} ({code})") for pid, code, name in db.session.execute(others)]
    if product is not None and request.method == "GET":
        form.fill_from(product)
    return form


def _save_product(form: ProductForm, product: Product | None) -> Product | None:
    if not form.validate_on_submit():
        return None
    values = form.service_values()
    try:
        if form.new_category.data and form.new_category.data.strip():
            values["category_id"] = catalog.category_named(form.new_category.data).id
        if product is None:
            product = catalog.create_product(**values)
        else:
            catalog.update_product(product, **values)
    except catalog.CatalogError as exc:
        _errors_onto(form, exc)
        return None
    db.session.commit()
    return product


@bp.route("/products/new", methods=["GET", "POST"])
@require_permission("sales.manage")
def product_new():
    """Add a product or service to the catalogue."""
    form = _product_form(None)
    product = _save_product(form, None)
    if product is not None:
        flash(_("%(name)s added to the catalogue.", name=product.name), "success")
        return redirect(url_for("sales.products"))
    return render_template("sales/product_form.html", form=form, product=None,
                           units=catalog.UNITS)


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@require_permission("sales.manage")
def product_edit(product_id: int):
    """Change a product or service."""
    product = db.session.get(Product, product_id) or abort(404)
    form = _product_form(product)
    if _save_product(form, product) is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("sales.products"))
    return render_template("sales/product_form.html", form=form, product=product,
                           units=catalog.UNITS)


# --- price lists ---------------------------------------------------------------------------

@bp.route("/pricelists")
@require_permission("sales.view")
def pricelists():
    """Price lists: search by name, sort by name or priority."""
    stmt = select(PriceList)
    for word in request.args.get("q", "").split():
        stmt = stmt.where(PriceList.name.like(_like(word), escape="\\"))
    sort, columns = sort_columns(request.args.get("sort"), LIST_SORTS, "priority",
                                 PriceList.id)
    page = request_page(stmt, columns)
    counts = dict(db.session.execute(
        select(PriceListItem.price_list_id, func.count()).where(
            PriceListItem.price_list_id.in_([pl.id for pl in page]))
        .group_by(PriceListItem.price_list_id)).all()) if page else {}
    return render_template("sales/pricelists.html", page=page, sort=sort, counts=counts,
                           segments=_segment_names())


def _segment_names() -> dict[str, str]:
    from core.analytics.rfm import SEGMENTS
    from core.i18n import current_locale

    return {key: s.name(current_locale()) for key, s in SEGMENTS.items()}


def _pricelist_form(price_list: PriceList | None) -> PriceListForm:
    from core.customers.custom_fields import definitions

    form = PriceListForm()
    form.match_field.choices = [("", "—")] + [(d.name, d.label) for d in definitions()]
    form.segment.choices = [("", "—")] + list(_segment_names().items())
    if price_list is not None and request.method == "GET":
        form.name.data, form.match_kind.data = price_list.name, price_list.match_kind
        form.priority.data, form.active.data = price_list.priority, price_list.active
        form.match_field.data = price_list.match_field
        if price_list.match_kind == "segment":
            form.segment.data = price_list.match_value
        else:
            form.match_value.data = price_list.match_value
    return form


def _save_pricelist(form: PriceListForm, price_list: PriceList | None):
    if not form.validate_on_submit():
        return None
    kind = form.match_kind.data
    try:
        price_list = catalog.save_price_list(
            price_list, name=form.name.data, match_kind=kind, match_field=form.match_field.data,
            match_value=form.segment.data if kind == "segment" else form.match_value.data,
            priority=form.priority.data, active=form.active.data)
    except catalog.CatalogError as exc:
        if kind == "segment" and "match_value" in exc.errors:
            exc.errors["segment"] = exc.errors.pop("match_value")
        _errors_onto(form, exc)
        return None
    db.session.commit()
    return price_list


@bp.route("/pricelists/new", methods=["GET", "POST"])
@require_permission("sales.manage")
def pricelist_new():
    """Start a price list for a class of customers."""
    form = _pricelist_form(None)
    price_list = _save_pricelist(form, None)
    if price_list is not None:
        flash(_("Price list %(name)s created; now add its prices.", name=price_list.name),
              "success")
        return redirect(url_for("sales.pricelist_show", list_id=price_list.id))
    return render_template("sales/pricelists_form.html", form=form, price_list=None)


@bp.route("/pricelists/<int:list_id>/edit", methods=["GET", "POST"])
@require_permission("sales.manage")
def pricelist_edit(list_id: int):
    """Change who a price list is for."""
    price_list = db.session.get(PriceList, list_id) or abort(404)
    form = _pricelist_form(price_list)
    if _save_pricelist(form, price_list) is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("sales.pricelist_show", list_id=price_list.id))
    return render_template("sales/pricelists_form.html", form=form, price_list=price_list)


def _list_price_form() -> ListPriceForm:
    form = ListPriceForm()
    form.product_id.choices = [(pid, f"{name} ({code})") for pid, code, name in db.session.execute(
        select(Product.id, Product.code, Product.name).where(Product.active.is_(True))
        .order_by(Product.name).limit(1000))]
    return form


@bp.route("/pricelists/<int:list_id>", methods=["GET", "POST"])
@require_permission("sales.view")
def pricelist_show(list_id: int):
    """A price list's prices (search by product); managers set a product's price here."""
    price_list = db.session.get(PriceList, list_id) or abort(404)
    form = _list_price_form()
    if request.method == "POST":
        from core.auth.permissions import has_permission

        if not has_permission("sales.manage"):
            abort(403)
        if form.validate_on_submit():
            product = db.session.get(Product, form.product_id.data) or abort(404)
            try:
                catalog.set_list_price(price_list, product, form.price.data)
            except catalog.CatalogError as exc:
                _errors_onto(form, exc)
            else:
                db.session.commit()
                flash(_("Price of %(name)s saved.", name=product.name), "success")
                return redirect(url_for("sales.pricelist_show", list_id=list_id))
    stmt = (select(PriceListItem).join(Product, Product.id == PriceListItem.product_id)
            .where(PriceListItem.price_list_id == list_id))
    for word in normalize(request.args.get("q", "")).split():
        stmt = stmt.where(Product.search_key.like(_like(word), escape="\\"))
    page = request_page(stmt, [Product.name, PriceListItem.id])
    return render_template("sales/pricelists_show.html", price_list=price_list, page=page,
                           form=form, segments=_segment_names())


@bp.route("/pricelists/<int:list_id>/items/<int:item_id>/delete", methods=["POST"])
@require_permission("sales.manage")
def pricelist_item_delete(list_id: int, item_id: int):
    """Take a product out of a price list (it sells at its base price again)."""
    item = db.session.get(PriceListItem, item_id)
    if item is None or item.price_list_id != list_id:
        abort(404)
    db.session.delete(item)
    db.session.commit()
    flash(_("Removed from the price list."), "success")
    return redirect(url_for("sales.pricelist_show", list_id=list_id))


# --- discount limits -----------------------------------------------------------------------

@bp.route("/discounts", methods=["GET", "POST"])
@require_permission("sales.manage")
def discounts():
    """The largest discount each role may give on a quote without a manager's approval."""
    roles = list(db.session.execute(select(Role).order_by(Role.name)).scalars())
    form = FlaskForm()
    errors: dict[str, str] = {}
    values = {r.id: request.form.get(f"role_{r.id}", "") for r in roles}
    if form.validate_on_submit():
        try:
            catalog.set_discount_limits(values)
        except catalog.CatalogError as exc:
            errors = exc.errors
        else:
            db.session.commit()
            flash(_("Discount limits saved."), "success")
            return redirect(url_for("sales.discounts"))
    if request.method == "GET":
        limits = catalog.discount_limits()
        values = {r.id: limits.get(r.id) for r in roles}
    return render_template("sales/catalog_discounts.html", roles=roles, form=form,
                           values=values, errors=errors,
                           defaults={r.id: 100 if "*" in (r.permissions or []) else 0
                                     for r in roles})
