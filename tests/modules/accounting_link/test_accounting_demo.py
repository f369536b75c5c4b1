"""The accounting-link demo step: the chart mapped (a revenue account per product category),
the current fiscal year, and journal entries backfilled for posted documents; idempotent."""

import pytest
from sqlalchemy import delete, func, select

from core.extensions import db
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    set_company,
    user,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _state() -> dict:
    from modules.accounting_link.models.journal import (
        Account,
        AccountMapping,
        FiscalYear,
        JournalEntry,
    )

    return {m.__name__: db.session.execute(select(func.count()).select_from(m)).scalar()
            for m in (Account, AccountMapping, FiscalYear, JournalEntry)}


def test_the_demo_step_maps_opens_the_year_and_backfills_the_journal_once(app, make_user):
    from core.customers.models import Customer
    from core.database import utcnow
    from core.demo import DemoContext
    from core.i18n import fiscal_year_of, local_date
    from modules.accounting_link.demo import load_accounting
    from modules.accounting_link.models.journal import (
        FiscalYear,
        JournalEntry,
        JournalLine,
    )
    from modules.sales import payments
    from modules.sales.catalog import category_named

    assert "accounting_link" in [s.name for s in app.extensions["crm_demo_steps"]]
    make_user(seats=["sales", "accounting_link"])
    set_company(app)
    with app.app_context():
        category = category_named("Computers").id
        db.session.commit()
    customer = make_buyer(app)
    product = make_product(app, category_id=category)
    invoice = make_invoice(app, customer, [{"product_id": product, "quantity": 1}], post=True)
    with app.test_request_context():
        payment = payments.record_payment(db.session.get(Customer, customer), amount=320_000,
                                          method="card", by=user()).id
        db.session.commit()
        # Documents posted before the link was set up: no journal entries yet.
        db.session.execute(delete(JournalLine))
        db.session.execute(delete(JournalEntry))
        db.session.commit()

        ctx = DemoContext()
        load_accounting(ctx)
        entries = {e.key: e for e in db.session.execute(select(JournalEntry)).scalars()}
        assert {f"sales.invoice:{invoice}", f"sales.payment:{payment}"} <= set(entries)
        revenue = [line for line in entries[f"sales.invoice:{invoice}"].lines
                   if line.role.startswith("revenue")]
        assert [(line.role, line.account.code, line.account.name, line.credit)
                for line in revenue] == [(f"revenue:{category}", "4101-01", "فروش Computers",
                                          1_200_000)]
        year = fiscal_year_of(local_date(utcnow()))
        fiscal = db.session.execute(select(FiscalYear).where(FiscalYear.year == year)).scalar()
        assert fiscal is not None and fiscal.closed is False
        assert fiscal.starts_on <= local_date(utcnow()) <= fiscal.ends_on
        assert any("fiscal year" in note for note in ctx.notes)
        before = _state()

        again = DemoContext()
        load_accounting(again)
        assert _state() == before
        assert again.notes == []
