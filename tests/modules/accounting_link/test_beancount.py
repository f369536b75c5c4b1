"""The beancount export: the exact ledger of a known journal, ``bean-check`` (the real binary)
on a period of invoices, credit notes, payments, cheques and points and on the demo data, and
no way to write a transaction that does not balance."""

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from flask_babel import force_locale

from core.extensions import db
from tests.modules.accounting_link.export_helpers import busy_period, known_journal

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def bean_check(tmp_path, text: str, name: str = "journal.beancount") -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([str(BEAN_CHECK), str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_known_journal_as_an_exact_ledger(app):
    from modules.accounting_link.exports import export_beancount

    customer = known_journal(app)["customer"]
    with app.test_request_context(), force_locale("en"):
        text = export_beancount(date(2025, 3, 21), date(2025, 4, 9))
    assert text == (
        "; Peyvand CRM journal 1404/01/01 - 1404/01/20 (2025-03-21 - 2025-04-09)\n"
        'option "title" "Journal 1404/01/01 to 1404/01/20"\n'
        'option "operating_currency" "IRR"\n'
        "\n"
        "2025-03-21 open Assets:A1102 IRR\n"
        '  code: "1102"\n'
        '  name: "بانک - کارت‌خوان"\n'
        "\n"
        "2025-03-21 open Assets:A1104 IRR\n"
        '  code: "1104"\n'
        '  name: "حساب‌های دریافتنی تجاری"\n'
        "\n"
        "2025-03-21 open Income:A4101 IRR\n"
        '  code: "4101"\n'
        '  name: "فروش کالا و خدمات"\n'
        "\n"
        "2025-03-21 open Liabilities:A2105 IRR\n"
        '  code: "2105"\n'
        '  name: "مالیات بر ارزش افزوده پرداختنی"\n'
        "\n"
        '2025-03-25 * "Invoice 1404-1 to آلفا"\n'
        '  entry: "1404-1"\n'
        '  jalali: "1404/01/05"\n'
        '  kind: "invoice"\n'
        '  source: "sales.invoice:7"\n'
        '  reference: "1404-1"\n'
        f'  customer: "{customer}"\n'
        "  Assets:A1104                             1100000 IRR\n"
        "  Income:A4101                             -1000000 IRR\n"
        "  Liabilities:A2105                        -100000 IRR\n"
        "\n"
        '2025-04-09 * "Card payment, first instalment"\n'
        '  entry: "1404-2"\n'
        '  jalali: "1404/01/20"\n'
        '  kind: "payment"\n'
        '  source: "sales.payment:3"\n'
        '  reference: "TRK-55"\n'
        f'  customer: "{customer}"\n'
        "  Assets:A1102                             600000 IRR\n"
        "  Assets:A1104                             -600000 IRR\n"
        '    memo: "Card \\"A\\", first part"\n')


def test_a_period_of_real_activity_passes_bean_check(app, make_user, tmp_path):
    from sqlalchemy import select

    from core.database import utcnow
    from core.i18n import fiscal_year_of, local_date
    from modules.accounting_link.exports import export_beancount, fiscal_year_period
    from modules.accounting_link.models.journal import JournalEntry

    busy_period(app, make_user)
    with app.test_request_context():
        start, end = fiscal_year_period(fiscal_year_of(local_date(utcnow())))
        text = export_beancount(start, end)
        kinds = sorted(db.session.execute(select(JournalEntry.kind)).scalars())
        count = len(kinds)
    assert set(kinds) == {"invoice", "credit_note", "payment", "cheque", "points_issued",
                          "points_redeemed", "points_expired"}
    assert text.count(" * ") == count
    for name in ("Assets:A1101", "Assets:A1102", "Assets:A1103", "Assets:A1104",
                 "Assets:A1105", "Income:A4101", "Income:A4102", "Income:A4105",
                 "Liabilities:A2105", "Liabilities:A2110", "Expenses:A6105"):
        assert f" open {name} IRR" in text
    bean_check(tmp_path, text)


def test_the_demo_fiscal_year_passes_bean_check(app, runner, tmp_path):
    from sqlalchemy import func, select

    from modules.accounting_link.exports import export_beancount, fiscal_year_period
    from modules.accounting_link.models.journal import JournalEntry

    assert runner.invoke(args=["crm", "demo"]).exit_code == 0
    with app.test_request_context():
        years = dict(db.session.execute(select(JournalEntry.fiscal_year, func.count())
                                        .group_by(JournalEntry.fiscal_year)).all())
        assert years, "the demo posts no journal entries"
        ledgers = {year: export_beancount(*fiscal_year_period(year)) for year in years}
    for year, text in ledgers.items():
        assert text.count(" * ") == years[year]
        bean_check(tmp_path, text, f"demo-{year}.beancount")


def test_an_entry_that_does_not_balance_cannot_be_written(app):
    from flask_babel import force_locale

    from modules.accounting_link.exports import ExportError, _Names, beancount_transaction
    from modules.accounting_link.journal import by_key
    from modules.accounting_link.models.journal import JournalEntry, JournalLine

    known_journal(app)
    with app.test_request_context(), force_locale("en"):
        account = by_key("t:invoice").lines[0].account
        lopsided = JournalEntry(fiscal_year=1404, number=99, entry_date=date(2025, 4, 1),
                                kind="manual", source_type="manual", key="x", description="x",
                                lines=[JournalLine(account=account, debit=10, credit=0),
                                       JournalLine(account=account, debit=0, credit=9)])
        with pytest.raises(ExportError, match="does not balance"):
            beancount_transaction(lopsided, _Names({}))
        # and a written entry cannot be made lopsided: the journal refuses the change
        from modules.accounting_link.journal import JournalError

        written = by_key("t:invoice")
        written.lines[0].debit += 1
        with pytest.raises(JournalError):
            db.session.flush()
        db.session.rollback()


def test_account_names_follow_kind_and_code(app):
    from modules.accounting_link.exports import ExportError, _Names, beancount_account
    from modules.accounting_link.models.journal import Account

    with app.app_context():
        assert beancount_account(Account(id=1, code="1104", kind="asset")) == "Assets:A1104"
        assert beancount_account(Account(id=2, code="۲۱۰۵", kind="liability")) == \
            "Liabilities:A2105"
        assert beancount_account(Account(id=3, code="3101", kind="equity")) == "Equity:A3101"
        assert beancount_account(Account(id=4, code="61.05/1", kind="expense")) == \
            "Expenses:A61-05-1"
        names = _Names({})
        assert names.of(Account(id=5, code="41 01", kind="income")) == "Income:A41-01"
        assert names.of(Account(id=6, code="41-01", kind="income")) == "Income:A41-01-6"
        with pytest.raises(ExportError):
            beancount_account(Account(id=7, code="9", kind="memo"))
