"""Document arithmetic: line amounts, discounts, VAT and totals in integer rials.

Pure functions on plain integers; nothing here reads the database (the VAT rate of each line
is looked up once by the caller, from the date-effective table in ``core.tax``).

Representation
    quantity   thousandths of the unit, as an int: 1 piece = 1000, 2.5 kg = 2500, 0.125 = 125
    price      rials per whole unit, an int
    discount   a line discount in basis points (1250 = 12.5%); the document discount is an
               amount of rials taken off the whole document after the line discounts
    VAT rate   basis points (1000 = 10%)

Rounding rule (each step rounds to the whole rial; "half up" means halves away from zero)
    1. gross      = quantity × price / 1000, half up
    2. discount   = gross × discount_bp / 10000, half up;  net = gross − discount
    3. the document discount D is spread over the lines in proportion to their net amounts by
       the largest-remainder method: each line gets floor(D × net / Σnet) and the rials left
       over go one each to the lines with the largest remainders (ties: the earlier line), so
       the shares add up to D exactly;  taxable = net − share
    4. VAT        = taxable × rate_bp / 10000, half up, per line
    5. total      = Σ taxable + Σ VAT
The document's VAT is the sum of the lines' VAT (never recomputed on the sum), so what the
PDF shows per line adds up to its total.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask_babel import gettext as _

from core.tax import apply_rate

MILLI = 1000
BASIS_POINTS = 10_000


def _int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def half_up_div(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest int, halves away from zero."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    magnitude = (2 * abs(numerator) + denominator) // (2 * denominator)
    return magnitude if numerator >= 0 else -magnitude


def line_gross(quantity: int, price: int) -> int:
    """Quantity (thousandths) × unit price, in whole rials."""
    return half_up_div(_int(quantity, "quantity") * _int(price, "price"), MILLI)


def line_discount(gross: int, discount_bp: int) -> int:
    """The line discount in rials: ``gross × discount_bp / 10000``, half up."""
    _int(discount_bp, "discount_bp")
    if not 0 <= discount_bp <= BASIS_POINTS:
        raise ValueError("a line discount is between 0 and 10000 basis points")
    return half_up_div(_int(gross, "gross") * discount_bp, BASIS_POINTS)


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over ``weights`` proportionally; the parts add up to ``amount``.

    Largest-remainder method: floor shares first, then one rial each to the largest
    remainders, ties to the earlier position. All weights zero: nothing can carry a share,
    so ``amount`` must be zero.
    """
    _int(amount, "amount")
    total = sum(weights)
    if amount < 0 or any(w < 0 for w in weights):
        raise ValueError("allocation needs a non-negative amount and weights")
    if total == 0:
        if amount:
            raise ValueError("nothing to spread the amount over")
        return [0 for _ in weights]
    shares = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class LineInput:
    """What a line says: how much of what at which price, its discount and VAT rate."""

    quantity: int  # thousandths of a unit
    price: int  # rials per unit
    discount_bp: int = 0
    vat_rate_bp: int = 0


@dataclass(frozen=True)
class LineAmounts:
    gross: int
    discount: int
    net: int
    document_discount: int
    taxable: int
    vat: int
    total: int


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineAmounts, ...]
    gross: int
    line_discounts: int
    document_discount: int
    taxable: int
    vat: int
    total: int

    @property
    def discounts(self) -> int:
        """Every discount on the document: line discounts and the document discount."""
        return self.line_discounts + self.document_discount


class TotalsError(ValueError):
    """The numbers cannot make a document (a negative quantity, a discount above the net)."""


def compute(lines: Iterable[LineInput], document_discount: int = 0) -> Totals:
    """Every amount of a document from its lines and its document discount (rials)."""
    lines = list(lines)
    _int(document_discount, "document_discount")
    nets, first = [], []
    for line in lines:
        if _int(line.quantity, "quantity") <= 0:
            raise TotalsError(_("A line's quantity must be more than zero."))
        if _int(line.price, "price") < 0:
            raise TotalsError(_("A unit price cannot be negative."))
        if not 0 <= _int(line.vat_rate_bp, "vat_rate_bp") <= BASIS_POINTS:
            raise TotalsError(_("A VAT rate is between 0 and 10000 basis points."))
        gross = line_gross(line.quantity, line.price)
        discount = line_discount(gross, line.discount_bp)
        first.append((gross, discount))
        nets.append(gross - discount)
    if document_discount < 0:
        raise TotalsError(_("The document discount cannot be negative."))
    if document_discount > sum(nets):
        raise TotalsError(_("The document discount is larger than the lines' total."))
    shares = allocate(document_discount, nets)
    amounts = []
    for line, (gross, discount), net, share in zip(lines, first, nets, shares, strict=True):
        taxable = net - share
        vat = apply_rate(taxable, line.vat_rate_bp)
        amounts.append(LineAmounts(gross, discount, net, share, taxable, vat, taxable + vat))
    return Totals(
        lines=tuple(amounts),
        gross=sum(a.gross for a in amounts),
        line_discounts=sum(a.discount for a in amounts),
        document_discount=document_discount,
        taxable=sum(a.taxable for a in amounts),
        vat=sum(a.vat for a in amounts),
        total=sum(a.total for a in amounts),
    )


def exceeds_limit(lines: Sequence[LineInput], totals: Totals, limit_percent: int) -> bool:
    """Whether any line discount, or the document's overall discount, is above the limit."""
    limit_bp = limit_percent * 100
    if any(line.discount_bp > limit_bp for line in lines):
        return True
    return totals.discounts * 100 > limit_percent * totals.gross if totals.gross else False


def parse_quantity(text) -> int:
    """Thousandths from what a person types: "2", "۲٫۵", "0.125" → 2000, 2500, 125."""
    from decimal import Decimal

    from core.i18n import parse_number

    number = Decimal(parse_number(text, allow_decimal=True))
    milli = number * MILLI
    if milli != int(milli):
        raise ValueError(_("%(value)s has more than three decimal places", value=text))
    return int(milli)


def quantity_text(quantity: int) -> str:
    """Thousandths as a plain decimal: 2500 → "2.5", 2000 → "2" (no grouping, Latin digits)."""
    whole, rest = divmod(abs(quantity), MILLI)
    sign = "-" if quantity < 0 else ""
    return f"{sign}{whole}" + (f".{rest:03d}".rstrip("0") if rest else "")
