"""Catalogue rules: products and services, price lists, and discount limits per role.

Functions take plain arguments and never touch ``request``; the caller commits. Validation
collects every problem and raises one ``CatalogError`` whose ``errors`` map a field to the
reason. Prices are integer rials; text input with Persian, Arabic-Indic or Latin digits is
accepted where a number is expected.
"""

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.database import get_setting, set_setting
from core.extensions import db
from core.i18n import normalize, parse_number, to_latin_digits
from modules.sales.models.catalog import (
    KINDS,
    MATCH_KINDS,
    TAX_CATEGORIES,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
)

PRODUCT_FIELDS = {"code", "name", "kind", "unit", "category_id", "price", "tax_category",
                  "stock_quantity", "active", "upgrade_to_id", "description"}
# Units offered in the form; any other text is accepted too.
UNITS = ("عدد", "کیلوگرم", "گرم", "ساعت", "روز", "متر", "مترمربع", "لیتر", "بسته", "جعبه",
         "دستگاه", "نفر-ساعت")
DISCOUNT_LIMITS_SETTING = "sales.discount_limits"  # {role id (str): max percent}


class CatalogError(ValueError):
    """The catalogue data is invalid; ``errors`` maps each field to the reason."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


# --- products ------------------------------------------------------------------------------

def create_product(**fields) -> Product:
    """A new product or service from plain values (prices in rials, any digits)."""
    product = Product(kind="product", unit=UNITS[0], price=0, tax_category="standard",
                      active=True, description="")
    _apply(product, fields, new=True)
    db.session.add(product)
    db.session.flush()
    return product


def update_product(product: Product, **fields) -> Product:
    """Change the given fields of ``product``; fields not passed stay as they are."""
    _apply(product, fields, new=False)
    db.session.flush()
    return product


def _whole(value, name: str, errors: dict, *, minimum: int | None = 0) -> int | None:
    """An int from an int or text in any digits; a reason in ``errors`` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[name] = _("Enter a whole number.")
        return None
    if not isinstance(value, int):
        try:
            value = parse_number(str(value))
        except ValueError as exc:
            errors[name] = str(exc)
            return None
    if minimum is not None and value < minimum:
        errors[name] = _("Cannot be negative.")
        return None
    return int(value)


def clean_code(code) -> str:
    """A product code as stored: trimmed, Latin digits, no inner spaces doubled."""
    return " ".join(to_latin_digits(str(code or "")).split())


def _apply(product: Product, fields: dict[str, Any], *, new: bool) -> None:
    unknown = set(fields) - PRODUCT_FIELDS
    if unknown:
        raise TypeError(f"unknown product fields: {', '.join(sorted(unknown))}")
    errors: dict[str, str] = {}
    values = dict(fields)
    if "code" in values or new:
        values["code"] = clean_code(values.get("code"))
        if not values["code"]:
            errors["code"] = _("Give the product a code.")
        else:
            taken = db.session.execute(
                select(Product.id).where(func.lower(Product.code) == values["code"].lower(),
                                         Product.id != (product.id or 0))).first()
            if taken:
                errors["code"] = _("Another product already has this code.")
    if "name" in values or new:
        values["name"] = " ".join(str(values.get("name") or "").split())
        if not values["name"]:
            errors["name"] = _("Give the product a name.")
    if "kind" in values and values["kind"] not in KINDS:
        errors["kind"] = _("A catalogue item is a product or a service.")
    if "unit" in values:
        values["unit"] = " ".join(str(values["unit"] or "").split())
        if not values["unit"]:
            errors["unit"] = _("Give the unit it is sold in.")
    if "tax_category" in values and values["tax_category"] not in TAX_CATEGORIES:
        errors["tax_category"] = _("Choose a tax category.")
    if "price" in values or new:
        price = _whole(values.get("price"), "price", errors)
        if price is None and "price" not in errors:
            errors["price"] = _("Give the price.")
        values["price"] = price
    if "stock_quantity" in values:
        values["stock_quantity"] = _whole(values["stock_quantity"], "stock_quantity", errors)
    if values.get("category_id") is not None and db.session.get(
            ProductCategory, values["category_id"]) is None:
        errors["category_id"] = _("This category does not exist.")
    if values.get("upgrade_to_id") is not None:
        if product.id is not None and values["upgrade_to_id"] == product.id:
            errors["upgrade_to_id"] = _("A product cannot be its own upgrade.")
        elif db.session.get(Product, values["upgrade_to_id"]) is None:
            errors["upgrade_to_id"] = _("This product does not exist.")
    if errors:
        raise CatalogError(errors)
    for name, value in values.items():
        setattr(product, name, value)
    product.search_key = normalize(" ".join(
        p for p in (product.code, product.name, product.description) if p))


def category_named(name: str) -> ProductCategory:
    """The category with this name, created if new."""
    name = " ".join((name or "").split())
    if not name:
        raise CatalogError({"name": _("Give the category a name.")})
    found = db.session.execute(
        select(ProductCategory).where(ProductCategory.name == name)).scalar()
    if found is None:
        found = ProductCategory(name=name)
        db.session.add(found)
        db.session.flush()
    return found


# --- price lists ---------------------------------------------------------------------------

def save_price_list(price_list: PriceList | None = None, **fields) -> PriceList:
    """Create or change a price list (name, match_kind, match_field, match_value, ...)."""
    errors: dict[str, str] = {}
    price_list = price_list or PriceList(match_field="", match_value="", currency="IRR",
                                         priority=100, active=True)
    name = " ".join(str(fields.get("name", price_list.name) or "").split())
    if not name:
        errors["name"] = _("Give the price list a name.")
    elif db.session.execute(select(PriceList.id).where(
            PriceList.name == name, PriceList.id != (price_list.id or 0))).first():
        errors["name"] = _("Another price list already has this name.")
    kind = fields.get("match_kind", price_list.match_kind) or "tag"
    if kind not in MATCH_KINDS:
        errors["match_kind"] = _("Choose who the list is for.")
    value = " ".join(str(fields.get("match_value", price_list.match_value) or "").split())
    if not value:
        errors["match_value"] = _("Give the tag, field value or segment the list is for.")
    field = str(fields.get("match_field", price_list.match_field) or "").strip()
    if kind == "field" and not field:
        errors["match_field"] = _("Give the custom field that holds the customer class.")
    priority = _whole(fields.get("priority", price_list.priority), "priority", errors)
    if errors:
        raise CatalogError(errors)
    price_list.name, price_list.match_kind, price_list.match_value = name, kind, value
    price_list.match_field = field if kind == "field" else ""
    price_list.priority = 100 if priority is None else priority
    price_list.currency = fields.get("currency", price_list.currency) or "IRR"
    if "active" in fields:
        price_list.active = bool(fields["active"])
    db.session.add(price_list)
    db.session.flush()
    return price_list


def set_list_price(price_list: PriceList, product: Product, price) -> PriceListItem | None:
    """Set (or with an empty price, remove) ``product``'s price in ``price_list``."""
    errors: dict[str, str] = {}
    value = _whole(price, "price", errors)
    if errors:
        raise CatalogError(errors)
    item = db.session.execute(select(PriceListItem).where(
        PriceListItem.price_list_id == price_list.id,
        PriceListItem.product_id == product.id)).scalar()
    if value is None:
        if item is not None:
            db.session.delete(item)
            db.session.flush()
        return None
    if item is None:
        item = PriceListItem(price_list_id=price_list.id, product_id=product.id, price=value)
        db.session.add(item)
    else:
        item.price = value
    db.session.flush()
    return item


def _customer_segment(customer) -> str | None:
    from core.analytics.models import CustomerScore

    return db.session.execute(select(CustomerScore.segment).where(
        CustomerScore.customer_id == customer.id)).scalar()


def price_lists_for(customer) -> list[PriceList]:
    """The active price lists that apply to ``customer``, best first (lowest priority)."""
    if customer is None:
        return []
    lists = db.session.execute(select(PriceList).where(PriceList.active.is_(True))
                               .order_by(PriceList.priority, PriceList.id)).scalars().all()
    if not lists:
        return []
    tags = {normalize(t.name) for t in customer.tags}
    custom = {k: normalize(str(v)) for k, v in (customer.custom or {}).items()
              if v not in (None, "")}
    segment = _customer_segment(customer) if any(
        pl.match_kind == "segment" for pl in lists) else None

    def matches(pl: PriceList) -> bool:
        want = normalize(pl.match_value)
        if pl.match_kind == "tag":
            return want in tags
        if pl.match_kind == "field":
            return custom.get(pl.match_field) == want
        return segment is not None and segment == pl.match_value

    return [pl for pl in lists if matches(pl)]


def price_for(product: Product, customer=None) -> int:
    """The unit price (rials) of ``product`` for ``customer``.

    The first applicable price list (by priority) that prices the product wins; without one,
    the product's base price.
    """
    lists = price_lists_for(customer)
    if lists:
        rows = dict(db.session.execute(select(PriceListItem.price_list_id, PriceListItem.price)
                                       .where(PriceListItem.product_id == product.id,
                                              PriceListItem.price_list_id.in_(
                                                  [pl.id for pl in lists]))).all())
        for pl in lists:
            if pl.id in rows:
                return int(rows[pl.id])
    return int(product.price)


# --- discount limits -----------------------------------------------------------------------

def discount_limits() -> dict[int, int]:
    """Max discount percent per role id, as configured (roles not listed: see below)."""
    stored = get_setting(DISCOUNT_LIMITS_SETTING, {}) or {}
    return {int(k): int(v) for k, v in stored.items()}


def set_discount_limits(limits: dict[int, Any]) -> bool:
    """Store the max discount percent per role id (0-100, any digits); returns if changed."""
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for role_id, value in limits.items():
        pct = _whole(value, f"role_{role_id}", errors)
        if pct is None:
            continue
        if pct > 100:
            errors[f"role_{role_id}"] = _("A discount is at most 100%.")
            continue
        clean[str(role_id)] = pct
    if errors:
        raise CatalogError(errors)
    return set_setting(DISCOUNT_LIMITS_SETTING, clean)


def discount_limit(user) -> int:
    """The largest discount (whole percent) ``user`` may give without a manager's approval.

    Set per role by the admin; a role with every permission ("*") defaults to 100, any other
    role not configured to 0.
    """
    if user is None or getattr(user, "role", None) is None:
        return 0
    limits = discount_limits()
    if user.role.id in limits:
        return limits[user.role.id]
    return 100 if "*" in (user.role.permissions or []) else 0
