"""Imports back from the accounting package: customers keyed by their accounting code, a
sales history that feeds RFM/CLV (and adds nothing the second time), settlements that mark
an invoice paid once (from a file and over REST), and files with bad rows that write
nothing."""

from datetime import date, timedelta

import jdatetime
import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from core.extensions import db
from core.i18n import to_persian_digits
from tests.modules.accounting_link.import_helpers import (
    CUSTOMER_HEADERS,
    SALES_HEADERS,
    SETTLEMENT_HEADERS,
    SettlementServer,
    run,
    write_csv,
)
from tests.modules.sales.document_helpers import (
    balance,
    make_buyer,
    make_invoice,
    make_product,
    national_code,
    set_company,
)

UNTIL = date(2025, 3, 10)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar()


def _customers_file(tmp_path, name="customers.csv", balance_of_c1="-2,500,000"):
    rows = [[f"C{i}", f"مشتری {i}", national_code(f"00123456{i}"), "", f"0912000000{i}",
             "تهران" if i % 2 else "شیراز", "0"] for i in range(1, 6)]
    rows[0][6] = balance_of_c1
    return write_csv(tmp_path / name, CUSTOMER_HEADERS, rows)


def _sales_rows():
    """Customer Ci: i purchases of i million rials, a week apart, the last (6 - i) * 10
    days before UNTIL; dates alternate Jalali (Persian digits) and Gregorian."""
    rows = []
    for i in range(1, 6):
        for k in range(i):
            day = UNTIL - timedelta(days=(6 - i) * 10 + 7 * k)
            text = (to_persian_digits(jdatetime.date.fromgregorian(date=day)
                                      .strftime("%Y/%m/%d")) if k % 2 == 0 else day.isoformat())
            rows.append([f"C{i}", text, f"S-{i}-{k}", f"{i * 1_000_000:,}"])
    return rows


def test_customers_are_created_then_updated_by_their_accounting_code(app, tmp_path):
    from core.customers.models import Customer
    from modules.accounting_link.models.imports import CustomerLink

    result = run(app, "customers", _customers_file(tmp_path))
    assert (result.created, result.updated, result.rejected, result.written) == (5, 0, 0, True)
    with app.app_context():
        link = db.session.execute(select(CustomerLink).where(CustomerLink.code == "C1")).scalar()
        customer = db.session.get(Customer, link.customer_id)
        assert (customer.display_name, customer.national_code, link.balance) == (
            "مشتری 1", national_code("001234561"), -2_500_000)
        assert [c.value for c in customer.contacts] == ["+989120000001"]
        assert customer.addresses[0].city == "تهران"
    again = run(app, "customers", _customers_file(tmp_path, "again.csv", "-1,000,000"))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 4)
    with app.app_context():
        assert _count(Customer) == 5
        link = db.session.execute(select(CustomerLink).where(CustomerLink.code == "C1")).scalar()
        assert link.balance == -1_000_000


def test_a_customer_already_in_the_crm_is_linked_by_mobile_not_duplicated(app, tmp_path):
    from core.customers.models import Customer
    from core.customers.services import create_customer
    from modules.accounting_link.models.imports import CustomerLink

    with app.app_context():
        existing = create_customer(first_name="رضا", last_name="محمدی",
                                   mobiles=["09120000003"]).id
        db.session.commit()
    result = run(app, "customers", _customers_file(tmp_path))
    assert (result.created, result.updated) == (4, 1)
    with app.app_context():
        assert _count(Customer) == 5
        link = db.session.execute(select(CustomerLink).where(CustomerLink.code == "C3")).scalar()
        assert link.customer_id == existing
        assert db.session.get(Customer, existing).display_name == "رضا محمدی"  # name kept


def test_a_sales_history_feeds_rfm_and_clv_and_a_second_import_adds_nothing(app, tmp_path):
    from core.analytics import sql
    from core.analytics.jobs import recompute_scores
    from core.analytics.models import Purchase
    from core.analytics.services import score_for
    from modules.accounting_link.models.imports import CustomerLink

    run(app, "customers", _customers_file(tmp_path))
    path = write_csv(tmp_path / "sales.csv", SALES_HEADERS, _sales_rows())
    result = run(app, "sales", path)
    assert (result.created, result.unchanged, result.rejected) == (15, 0, 0)
    with app.app_context():
        purchase = db.session.execute(select(Purchase).where(
            Purchase.idempotency_key == "accounting:S-5-0")).scalar()
        assert (purchase.source, purchase.reference, purchase.amount) == ("import", "S-5-0",
                                                                          5_000_000)
        recompute_scores(UNTIL)
        links = dict(db.session.execute(select(CustomerLink.code, CustomerLink.customer_id)).all())
        scores = {code: score_for(links[code]) for code in links}
        assert {code: (s.recency_days, s.frequency, s.monetary, s.segment)
                for code, s in scores.items()} == {
            "C1": (50, 1, 1_000_000, "lost"),
            "C2": (40, 2, 4_000_000, "hibernating"),
            "C3": (30, 3, 9_000_000, "potential_loyalists"),
            "C4": (20, 4, 16_000_000, "loyal"),
            "C5": (10, 5, 25_000_000, "champions"),
        }
        # CLV reads the same purchases: repeat purchases x = i - 1, age T from the first one.
        table = sql.rfm_table(UNTIL)
        x, t_x, T, m = table.clv_summary()
        by_customer = dict(zip(table.customer_id.tolist(), zip(x.tolist(), T.tolist(),
                                                                strict=True), strict=True))
        assert by_customer[links["C5"]] == (4, 10 + 7 * 4)
        assert by_customer[links["C1"]] == (0, 50)
        count = _count(Purchase)
    again = run(app, "sales", path)
    assert (again.created, again.unchanged, again.written) == (0, 15, True)
    with app.app_context():
        assert _count(Purchase) == count == 15


def test_bad_rows_are_reported_with_line_and_column_and_nothing_is_written(app, tmp_path):
    from core.analytics.models import Purchase

    run(app, "customers", _customers_file(tmp_path))
    rows = [["C1", "1403/12/01", "D-1", "1,000,000"],
            ["C9", "1403/12/02", "D-2", "2,000,000"],
            ["C2", "1403/13/40", "D-3", "500,000"],
            ["C3", "2025-02-01", "D-4", "بیست"],
            ["C4", "2025-02-02", "D-1", "700,000"]]
    path = write_csv(tmp_path / "bad.csv", SALES_HEADERS, rows)
    result = run(app, "sales", path)
    assert result.written is False
    assert result.rejected == 4
    assert [(line, column) for line, column, _m in result.errors] == [
        (3, "کد مشتری"), (4, "تاریخ"), (5, "مبلغ"), (6, "شماره سند")]
    messages = [m for _l, _c, m in result.errors]
    assert messages[0] == "No customer has the accounting code C9; import the customers first."
    assert messages[2] == "Amount: بیست is not a number"
    assert messages[3] == "D-1 is already on line 2 of this file."
    with app.app_context():
        assert _count(Purchase) == 0  # the good first row is not written either
    fa = run(app, "sales", path, locale="fa")  # in the language of who runs it
    with app.test_request_context(), force_locale("fa"):
        in_persian = gettext("%(value)s is not a number", value="بیست")
    assert in_persian != "بیست is not a number"
    assert fa.errors[2][2].endswith(in_persian)


def test_a_broken_file_is_refused_whole(app, tmp_path):
    from core.customers.import_parse import FileProblem

    path = tmp_path / "ragged.csv"
    path.write_text("کد مشتری,تاریخ,شماره سند,مبلغ\nC1,1403/12/01,D-1,100\nC2,1403/12/02\n",
                    encoding="utf-8")
    with pytest.raises(FileProblem) as refused:
        run(app, "sales", str(path))
    assert refused.value.line == 3


def test_a_dry_run_counts_and_writes_nothing(app, tmp_path):
    from core.customers.models import Customer

    result = run(app, "customers", _customers_file(tmp_path), dry_run=True)
    assert (result.created, result.written, result.dry_run) == (5, False, True)
    with app.app_context():
        assert _count(Customer) == 0


@pytest.fixture
def posted(app, make_user):
    """A posted invoice of 2,640,000 rials (2 × 1,200,000 + 10% VAT)."""
    make_user(seats=["sales", "accounting_link"])
    set_company(app)
    customer = make_buyer(app)
    product = make_product(app)
    invoice_id = make_invoice(app, customer, [{"product_id": product, "quantity": 2}], post=True)
    from modules.sales.models.documents import Invoice

    with app.app_context():
        reference = db.session.get(Invoice, invoice_id).reference
    return {"id": invoice_id, "reference": reference}


def test_a_settlement_marks_the_invoice_paid_once(app, tmp_path, posted):
    from modules.accounting_link.models.imports import Settlement
    from modules.sales.models.payments import Payment

    yesterday = (date.today() - timedelta(days=1)).isoformat()
    rows = [[to_persian_digits(posted["reference"]), "1,640,000", yesterday, "حواله", "TR-1"],
            [posted["reference"].replace("-", "/"), "1000000", yesterday, "cash", "TR-2"]]
    path = write_csv(tmp_path / "settlements.csv", SETTLEMENT_HEADERS, rows)
    result = run(app, "settlements", path, email="admin@example.ir")
    assert (result.created, result.rejected) == (2, 0)
    assert balance(app, posted["id"]) == 0
    with app.app_context():
        payments = db.session.execute(select(Payment).order_by(Payment.id)).unique().scalars()
        assert [(p.method, p.amount, p.reference, [(a.invoice_id, a.amount)
                                                   for a in p.allocations])
                for p in payments] == [
            ("transfer", 1_640_000, "TR-1", [(posted["id"], 1_640_000)]),
            ("cash", 1_000_000, "TR-2", [(posted["id"], 1_000_000)])]
    again = run(app, "settlements", path)
    assert (again.created, again.unchanged, again.written) == (0, 2, True)
    with app.app_context():
        assert (_count(Payment), _count(Settlement)) == (2, 2)


def test_a_settlement_above_what_is_owed_or_for_an_unknown_invoice_writes_nothing(
        app, tmp_path, posted):
    from modules.sales.models.payments import Payment

    yesterday = (date.today() - timedelta(days=1)).isoformat()
    rows = [[posted["reference"], "2,000,000", yesterday, "card", "A-1"],
            [posted["reference"], "1,000,000", yesterday, "card", "A-2"],
            ["1399-77", "10", yesterday, "card", "A-3"]]
    path = write_csv(tmp_path / "over.csv", SETTLEMENT_HEADERS, rows)
    result = run(app, "settlements", path)
    assert [(line, column) for line, column, _m in result.errors] == [
        (3, "مبلغ"), (4, "شماره فاکتور")]
    assert result.errors[1][2] == "No posted invoice is numbered 1399-77."
    assert balance(app, posted["id"]) == 2_640_000
    with app.app_context():
        assert _count(Payment) == 0


def test_settlements_pulled_over_rest_apply_each_reference_once(app, posted):
    from modules.accounting_link.imports import URL_SETTING, pull_settlements
    from modules.sales.models.payments import Payment

    yesterday = (date.today() - timedelta(days=1)).isoformat()
    with SettlementServer([{"invoice": posted["reference"], "amount": 640000,
                            "date": yesterday, "method": "card", "reference": "R-1"}]) as server:
        with app.test_request_context():
            from core.database import set_setting

            set_setting(URL_SETTING, server.url)
            db.session.commit()
            first = pull_settlements(locale="en")
            assert (first["created"], first["written"]) == (1, True)
            server.rows.append({"invoice": posted["reference"], "amount": 2000000,
                                "date": yesterday, "method": "transfer", "reference": "R-2"})
            second = pull_settlements(locale="en")
            assert (second["created"], second["unchanged"]) == (1, 1)
            assert _count(Payment) == 2
        assert server.calls == 2
    assert balance(app, posted["id"]) == 0
