"""Accounting-link demo data for ``crm demo``: the standard chart mapped, a revenue account
per product category, the current Jalali fiscal year, and the journal entries of the demo's
posted invoices and payments (the postings' backfill). Idempotent: accounts, mappings and the
fiscal year are found before they are made, and each document posts once by its key.
"""

from datetime import timedelta

from sqlalchemy import select

from core.extensions import db

REVENUE_CODE = "4101"


def load_accounting(ctx) -> None:
    """The demo step (after sales and the club have made their documents)."""
    from modules.accounting_link import journal

    journal.ensure_default_chart()
    _category_revenue(ctx)
    _fiscal_year(ctx)
    db.session.commit()
    from modules.accounting_link import postings

    backfill = getattr(postings, "backfill", None)
    if callable(backfill):
        counts = backfill()
        db.session.commit()
        if counts and any(counts.values()):
            ctx.notes.append("journal entries posted: " + ", ".join(
                f"{n} {kind}" for kind, n in counts.items() if n))


def _category_revenue(ctx) -> None:
    """A sales account per product category ("4101-01 فروش لپ‌تاپ"), mapped to its role."""
    from modules.accounting_link.models.journal import Account, AccountMapping
    from modules.sales.services import product_categories

    mapped = set(db.session.execute(select(AccountMapping.role).where(
        AccountMapping.fiscal_year.is_(None))).scalars())
    for position, (category_id, name) in enumerate(product_categories(), start=1):
        role = f"revenue:{category_id}"
        if role in mapped:
            continue
        code = f"{REVENUE_CODE}-{position:02d}"
        account = db.session.execute(select(Account).where(Account.code == code)).scalar()
        if account is None:
            account = Account(code=code, name=f"فروش {name}"[:200], kind="income")
            db.session.add(account)
            db.session.flush()
        db.session.add(AccountMapping(role=role, fiscal_year=None, account_id=account.id))
        ctx.notes.append(f"revenue account {code} mapped for {name}")
    db.session.flush()


def _fiscal_year(ctx) -> None:
    from core.database import utcnow
    from core.i18n import fiscal_year_of, fiscal_year_range, local_date
    from modules.accounting_link.models.journal import FiscalYear

    year = fiscal_year_of(local_date(utcnow()))
    if db.session.execute(select(FiscalYear).where(FiscalYear.year == year)).scalar():
        return
    starts_on, next_start = fiscal_year_range(year)
    db.session.add(FiscalYear(year=year, starts_on=starts_on,
                              ends_on=next_start - timedelta(days=1), closed=False))
    ctx.notes.append(f"fiscal year {year} opened")


def register(app) -> None:
    from core.demo import add_demo_step

    add_demo_step(app, "accounting_link", load_accounting, order=130)
