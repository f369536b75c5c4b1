"""VAT from a date-effective rate table: the rate in force on a date is the row with the
latest ``valid_from`` on or before it. Rates live in the database, never in code paths.

Rates are basis points (1000 = 10%). The VAT on an amount is rounded to the nearest rial,
halves away from zero: ``vat_amount(15, d)`` at 10% is 2 rials, ``vat_amount(-15, d)`` is -2.
"""

from datetime import date
from decimal import Decimal, InvalidOperation

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import Date, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from core.cli import crm
from core.extensions import db
from core.i18n import jdate, local_date, parse_jalali_date, to_latin_digits

STANDARD = "standard"
BASIS_POINTS = 10_000

# Iran's standard VAT: 9% from 1402/01/01, 10% from 1403/01/01 (seeded, editable later).
DEFAULT_RATES = (
    (STANDARD, 900, date(2023, 3, 21)),
    (STANDARD, 1000, date(2024, 3, 20)),
)


class TaxRate(db.Model):
    """One VAT rate for a category, in force from ``valid_from`` until the next row."""

    __tablename__ = "core_tax_rate"
    __table_args__ = (UniqueConstraint("category", "valid_from",
                                       name="uq_core_tax_rate_category_from"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(40), default=STANDARD)
    rate_bp: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")

    @property
    def rate(self) -> Decimal:
        return Decimal(self.rate_bp) / BASIS_POINTS


class TaxRateMissing(LookupError):
    """No rate is in force for this category on this date."""


def vat_rate_bp_on(day, category: str = STANDARD) -> int:
    """The VAT rate in basis points in force on ``day`` (a date, or a UTC datetime)."""
    day = local_date(day)
    rate = db.session.execute(
        select(TaxRate.rate_bp)
        .where(TaxRate.category == category, TaxRate.valid_from <= day)
        .order_by(TaxRate.valid_from.desc())
        .limit(1)
    ).scalar()
    if rate is None:
        raise TaxRateMissing(_("no VAT rate for category %(category)s is in force on "
                               "%(day)s; add one to the tax rate table",
                               category=category, day=day.isoformat()))
    return rate


def vat_rate_on(day, category: str = STANDARD) -> Decimal:
    """The VAT rate in force on ``day`` as a fraction: Decimal("0.1") for 10%."""
    return Decimal(vat_rate_bp_on(day, category)) / BASIS_POINTS


def apply_rate(amount_rials: int, rate_bp: int) -> int:
    """``amount × rate`` in whole rials, halves rounded away from zero."""
    if isinstance(amount_rials, bool) or not isinstance(amount_rials, int):
        raise TypeError("amounts are int rials")
    magnitude = (abs(amount_rials) * rate_bp * 2 + BASIS_POINTS) // (2 * BASIS_POINTS)
    return magnitude if amount_rials >= 0 else -magnitude


def vat_amount(amount_rials: int, day, category: str = STANDARD) -> int:
    """The VAT on an amount of rials at the rate in force on ``day``, in whole rials."""
    return apply_rate(amount_rials, vat_rate_bp_on(day, category))


def set_tax_rate(category: str, rate_bp: int, valid_from: date, note: str = "") -> bool:
    """Add or change the rate starting on ``valid_from``; returns whether anything changed."""
    if not 0 <= rate_bp <= BASIS_POINTS:
        raise ValueError(_("a tax rate is between 0 and 10000 basis points (0 to 100 percent), "
                           "not %(rate)s",
                           rate=rate_bp))
    row = db.session.execute(select(TaxRate).where(
        TaxRate.category == category, TaxRate.valid_from == valid_from)).scalar()
    if row is None:
        db.session.add(TaxRate(category=category, rate_bp=rate_bp, valid_from=valid_from,
                               note=note))
        return True
    if row.rate_bp == rate_bp:
        return False
    row.rate_bp = rate_bp
    return True


def ensure_default_tax_rates() -> bool:
    """Seed Iran's standard VAT rates when missing (idempotent; existing rows are kept)."""
    changed = False
    for category, rate_bp, valid_from in DEFAULT_RATES:
        exists = db.session.execute(select(TaxRate.id).where(
            TaxRate.category == category, TaxRate.valid_from == valid_from)).scalar()
        if exists is None:
            db.session.add(TaxRate(category=category, rate_bp=rate_bp, valid_from=valid_from,
                                   note="seeded"))
            changed = True
    if changed:
        db.session.flush()
    return changed


def all_rates(category: str | None = None) -> list[TaxRate]:
    """The rate table, oldest first (all categories unless one is named)."""
    stmt = select(TaxRate).order_by(TaxRate.category, TaxRate.valid_from)
    if category:
        stmt = stmt.where(TaxRate.category == category)
    return list(db.session.execute(stmt).scalars())


# --- flask crm tax --------------------------------------------------------------------------

tax_cli = AppGroup("tax", help="VAT rates (a date-effective table).")
crm.add_command(tax_cli)


@tax_cli.command("list")
@click.option("--category", default=None, help="Only this category.")
def tax_list(category):
    """Print the rate table: category, Jalali start date, rate."""
    for row in all_rates(category):
        click.echo(f"{row.category}\t{jdate(row.valid_from, locale='en')}\t"
                   f"{row.valid_from.isoformat()}\t{(row.rate * 100).normalize():f}%")


@tax_cli.command("set")
@click.option("--category", default="standard", show_default=True)
@click.option("--rate", "percent", required=True, help="Percent, e.g. 10 or 9.5.")
@click.option("--from", "valid_from", required=True, help="Jalali start date, e.g. 1404/01/01.")
def tax_set(category, percent, valid_from):
    """Add (or correct) the rate in force from a Jalali date."""
    try:
        basis_points = Decimal(to_latin_digits(percent).strip()) * 100
    except InvalidOperation as exc:
        raise click.ClickException(f"{percent} is not a percentage, e.g. 10 or 9.5") from exc
    try:
        if basis_points != int(basis_points):
            raise ValueError(f"{percent}% has more than two decimal places")
        changed = set_tax_rate(category, int(basis_points), parse_jalali_date(valid_from))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(("Saved" if changed else "Unchanged") + f": {category} {percent}% from {valid_from}")
