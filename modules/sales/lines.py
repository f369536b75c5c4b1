"""Document lines shared by quotes, orders and invoices: read, default, price and total them.

A line comes in as a dict: ``product_id`` (or None for a free-text line), ``description``,
``unit``, ``quantity`` (units: 2, "2.5", Decimal("0.125"); stored as thousandths),
``unit_price`` (rials; None or missing: the customer's price from the price lists),
``discount_percent`` (0–100, up to two decimals) and optionally ``tax_category``.
Problems are collected per field as ``lines-<i>-<field>`` (the names WTForms gives a
FieldList), so a form can show each next to its input.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from core.extensions import db
from core.i18n import format_number, parse_number
from core.tax import STANDARD, TaxRateMissing, vat_rate_bp_on
from modules.sales import totals
from modules.sales.catalog import price_for
from modules.sales.models.catalog import Product

EXEMPT = "exempt"
MAX_LINES = 500


class DocumentError(ValueError):
    """A document cannot be saved; ``errors`` maps each field to the reason."""

    def __init__(self, errors: dict[str, str] | str):
        if isinstance(errors, str):
            errors = {"": errors}
        self.errors = errors
        super().__init__("; ".join(v if not k else f"{k}: {v}" for k, v in errors.items()))


@dataclass
class Line:
    """A checked line, ready to be stored on any document's line model."""

    product_id: int | None
    description: str
    unit: str
    quantity: int
    unit_price: int
    discount_bp: int
    tax_category: str
    vat_rate_bp: int = 0

    @property
    def input(self) -> totals.LineInput:
        return totals.LineInput(self.quantity, self.unit_price, self.discount_bp,
                                self.vat_rate_bp)


def to_quantity(value) -> int:
    """Thousandths of a unit from 2, "۲٫۵", Decimal("0.125"); ValueError says why not."""
    if isinstance(value, bool):
        raise ValueError(_("Enter a quantity such as 2 or 2.5."))
    if isinstance(value, int):
        return value * totals.MILLI
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, Decimal):
        value = format(value, "f")
    return totals.parse_quantity(value)


def to_basis_points(value) -> int:
    """A percentage (12.5, "۱۲٫۵") in basis points (1250); ValueError says why not."""
    if value in (None, ""):
        return 0
    if isinstance(value, bool):
        raise ValueError(_("Enter a percentage from 0 to 100."))
    try:
        if isinstance(value, int | Decimal):
            number = Decimal(value)
        elif isinstance(value, float):
            number = Decimal(repr(value))
        else:
            number = Decimal(parse_number(value, allow_decimal=True))
    except (ValueError, InvalidOperation) as exc:
        raise ValueError(_("%(value)s is not a percentage", value=value)) from exc
    bp = number * 100
    if bp != int(bp):
        raise ValueError(_("A percentage has at most two decimal places."))
    if not 0 <= bp <= totals.BASIS_POINTS:
        raise ValueError(_("Enter a percentage from 0 to 100."))
    return int(bp)


def percent_plain(bp: int) -> str:
    """Basis points as a plain percentage for an input field: 1250 → "12.5", 0 → ""."""
    if not bp:
        return ""
    whole, rest = divmod(bp, 100)
    return f"{whole}" + (f".{rest:02d}".rstrip("0") if rest else "")


def percent_text(bp: int) -> str:
    """Basis points as a percentage in the reader's digits: 1250 → "۱۲٫۵"."""
    return format_number(Decimal(percent_plain(bp) or 0))


def vat_rate_for(category: str, day: date) -> int:
    """The VAT rate (basis points) of a tax category on a day; exempt is zero by definition."""
    try:
        return vat_rate_bp_on(day, category or STANDARD)
    except TaxRateMissing:
        if category == EXEMPT:
            return 0
        raise


def _money(value, name: str, errors: dict) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        errors[name] = _("Enter an amount in rials.")
        return None
    if not isinstance(value, int):
        try:
            value = parse_number(str(value))
        except ValueError as exc:
            errors[name] = str(exc)
            return None
    if value < 0:
        errors[name] = _("Cannot be negative.")
        return None
    return int(value)


def read_lines(items, customer, day: date) -> list[Line]:
    """Check and complete the lines of a document for ``customer`` dated ``day``."""
    items = list(items or [])
    errors: dict[str, str] = {}
    if not items:
        raise DocumentError({"lines": _("Add at least one line.")})
    if len(items) > MAX_LINES:
        raise DocumentError({"lines": _("A document has at most %(n)d lines.", n=MAX_LINES)})
    lines = []
    for i, item in enumerate(items):
        key = f"lines-{i}-"
        product = None
        if item.get("product_id"):
            product = db.session.get(Product, item["product_id"])
            if product is None:
                errors[key + "product_id"] = _("This product does not exist.")
                continue
        description = " ".join(str(item.get("description") or "").split())
        if not description and product is not None:
            description = product.name
        if not description:
            errors[key + "description"] = _("Choose a product or describe the line.")
        elif len(description) > 300:
            errors[key + "description"] = _("At most 300 characters.")
        unit = " ".join(str(item.get("unit") or "").split()) or (product.unit if product else "")
        try:
            quantity = to_quantity(item.get("quantity"))
            if quantity <= 0:
                errors[key + "quantity"] = _("The quantity must be more than zero.")
        except (TypeError, ValueError) as exc:
            quantity = 0
            errors[key + "quantity"] = str(exc) if str(exc) else _("Enter a quantity.")
        price = _money(item.get("unit_price"), key + "unit_price", errors)
        if price is None and key + "unit_price" not in errors:
            if product is None:
                errors[key + "unit_price"] = _("Give the unit price.")
            else:
                price = price_for(product, customer)
        try:
            discount_bp = to_basis_points(item.get("discount_percent"))
        except ValueError as exc:
            discount_bp = 0
            errors[key + "discount_percent"] = str(exc)
        category = item.get("tax_category") or (product.tax_category if product else STANDARD)
        try:
            rate = vat_rate_for(category, day)
        except TaxRateMissing as exc:
            errors[key + "tax_category"] = str(exc)
            rate = 0
        lines.append(Line(product.id if product else None, description, unit[:30], quantity,
                          price or 0, discount_bp, category, rate))
    if errors:
        raise DocumentError(errors)
    return lines


def compute(lines: list[Line], document_discount: int) -> totals.Totals:
    """The totals of checked lines; a document discount that does not fit is a field error."""
    try:
        return totals.compute([line.input for line in lines], document_discount)
    except totals.TotalsError as exc:
        raise DocumentError({"discount": str(exc)}) from exc


def store(document, line_model, lines: list[Line], result: totals.Totals) -> None:
    """Replace ``document.lines`` with ``lines`` and copy every amount onto the document."""
    document.lines = [
        line_model(position=i, product_id=line.product_id, description=line.description,
                   unit=line.unit, quantity=line.quantity, unit_price=line.unit_price,
                   discount_bp=line.discount_bp, tax_category=line.tax_category,
                   vat_rate_bp=line.vat_rate_bp, gross=amounts.gross,
                   discount=amounts.discount, document_discount=amounts.document_discount,
                   taxable=amounts.taxable, vat=amounts.vat, total=amounts.total)
        for i, (line, amounts) in enumerate(zip(lines, result.lines, strict=True))
    ]
    set_totals(document, result)


def set_totals(document, result: totals.Totals) -> None:
    document.gross = result.gross
    document.line_discounts = result.line_discounts
    document.document_discount = result.document_discount
    document.taxable = result.taxable
    document.vat = result.vat
    document.total = result.total


def lines_of(document) -> list[Line]:
    """A stored document's lines as ``Line`` values (to copy them onto another document)."""
    return [Line(row.product_id, row.description, row.unit, row.quantity, row.unit_price,
                 row.discount_bp, row.tax_category, row.vat_rate_bp) for row in document.lines]


def as_items(document) -> list[dict]:
    """A stored document's lines as input dicts (prices kept, quantities in units)."""
    return [{"product_id": row.product_id, "description": row.description, "unit": row.unit,
             "quantity": Decimal(row.quantity) / totals.MILLI, "unit_price": row.unit_price,
             "discount_percent": Decimal(row.discount_bp) / 100,
             "tax_category": row.tax_category} for row in document.lines]
