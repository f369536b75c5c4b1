"""Trial balance: exact figures per account for a Jalali period, a zero-sum totals row, CSV;
and, for random postings over random periods, totals that sum to zero and equal the lines."""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.extensions import db

ROLES = ["bank:cash", "bank:card", "receivables", "revenue", "vat_payable", "discounts",
         "points_liability", "points_expense"]
BASE = date(2025, 3, 1)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _at(day: date) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=UTC)  # 11:30 in Tehran, the same day


def _post(key, day, legs):
    from modules.accounting_link.journal import Leg, post_entry

    return post_entry(kind="manual", source_type="test", source_id=None, key=key,
                      legs=[Leg(role, debit=d, credit=c) for role, d, c in legs],
                      occurred_at=_at(day))


entries = st.lists(st.tuples(
    st.integers(0, 500),  # day offset
    st.lists(st.tuples(st.sampled_from(ROLES), st.integers(1, 10**9)), min_size=1,
             max_size=4),  # debits; the credits are a random split of the same total
    st.lists(st.sampled_from(ROLES), min_size=1, max_size=3),
), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=entries, start=st.integers(0, 520), length=st.integers(0, 400))
def test_any_period_sums_to_zero_and_equals_its_lines(app, batch, start, length):
    from modules.accounting_link.journal import trial_balance
    from modules.accounting_link.models.journal import JournalEntry

    with app.test_request_context():
        for offset, debits, credit_roles in batch:
            total = sum(amount for _, amount in debits)
            shares = [total // len(credit_roles)] * len(credit_roles)
            shares[0] += total - sum(shares)
            legs = [(r, a, 0) for r, a in debits] + [
                (r, 0, a) for r, a in zip(credit_roles, shares, strict=True)]
            test_any_period_sums_to_zero_and_equals_its_lines.counter += 1
            _post(f"p{test_any_period_sums_to_zero_and_equals_its_lines.counter}",
                  BASE + timedelta(days=offset), legs)
        db.session.commit()
        first, last = BASE + timedelta(days=start), BASE + timedelta(days=start + length)
        rows, totals = trial_balance(first, last)
        assert totals.opening == 0 and totals.closing == 0
        assert totals.debits == totals.credits
        expected: dict[int, list[int]] = {}
        for e in db.session.query(JournalEntry):
            for line in e.lines:
                acc = expected.setdefault(line.account_id, [0, 0, 0])
                if e.entry_date < first:
                    acc[0] += line.debit - line.credit
                elif e.entry_date <= last:
                    acc[1] += line.debit
                    acc[2] += line.credit
        assert {r.account.id: [r.opening, r.debits, r.credits] for r in rows} == {
            k: v for k, v in expected.items() if any(v)}
        assert totals.debits == sum(v[1] for v in expected.values())


test_any_period_sums_to_zero_and_equals_its_lines.counter = 0


def test_trial_balance_page_figures_and_csv(app, client, login, make_user):
    import jdatetime

    make_user(seats=["accounting_link"])
    with app.test_request_context():
        _post("before", BASE - timedelta(days=10),
              [("bank:cash", 1_000, 0), ("revenue", 0, 1_000)])
        _post("in1", BASE, [("receivables", 5_500, 0), ("revenue", 0, 5_000),
                            ("vat_payable", 0, 500)])
        _post("in2", BASE + timedelta(days=5),
              [("bank:cash", 2_000, 0), ("receivables", 0, 2_000)])
        _post("after", BASE + timedelta(days=40),
              [("bank:cash", 9_000, 0), ("revenue", 0, 9_000)])
        db.session.commit()
    login()
    start = jdatetime.date.fromgregorian(date=BASE).strftime("%Y/%m/%d")
    end = jdatetime.date.fromgregorian(date=BASE + timedelta(days=10)).strftime("%Y/%m/%d")
    html = client.get("/accounting/trial-balance",
                      query_string={"from": start, "to": end}).get_data(as_text=True)

    def cells(code):
        row = html.split(f'data-account="{code}"', 1)[1].split("</tr>", 1)[0]
        return [row.split(f"data-{name}>", 1)[1].split("<", 1)[0]
                for name in ("opening", "debits", "credits", "closing")]

    assert cells("1101") == ["1,000", "2,000", "0", "3,000"]
    assert cells("1104") == ["0", "5,500", "2,000", "3,500"]
    assert cells("4101") == ["-1,000", "0", "5,000", "-6,000"]
    assert cells("2105") == ["0", "0", "500", "-500"]
    totals = html.split("data-totals", 1)[1].split("</tr>", 1)[0]
    assert ">0<" in totals.split("data-opening", 1)[1][:5]
    assert "data-debits>7,500<" in totals and "data-credits>7,500<" in totals
    assert "data-closing>0<" in totals

    response = client.get("/accounting/trial-balance",
                          query_string={"from": start, "to": end, "format": "csv"})
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Code", "Ledger account", "Kind", "Opening (Rial)", "Debits (Rial)",
                       "Credits (Rial)", "Closing (Rial)"]
    assert ["1101", "1000", "2000", "0", "3000"] == [rows[1][0], *rows[1][3:]]
    assert rows[-1][1:] == ["Total", "", "0", "7500", "7500", "0"]

    bad = client.get("/accounting/trial-balance", query_string={"from": end, "to": start})
    assert "The period ends before it starts." in bad.get_data(as_text=True)
    empty = client.get("/accounting/trial-balance",
                       query_string={"from": "1390/01/01", "to": "1390/01/31"})
    assert "Nothing posted in this period" in empty.get_data(as_text=True)


def test_pages_speak_persian_with_persian_digits(app, client, login, make_user):
    from core.database import set_setting

    make_user(seats=["accounting_link"], locale="fa")
    with app.test_request_context():
        set_setting("display.language", "fa")
        _post("fa1", BASE, [("bank:cash", 12_500, 0), ("revenue", 0, 12_500)])
        db.session.commit()
    login()
    html = client.get("/accounting/trial-balance",
                      query_string={"from": "1403/12/01", "to": "1403/12/29"}).get_data(
        as_text=True)
    assert 'data-debits>۱۲٬۵۰۰<' in html and "صندوق" in html
    for url in ("/accounting/journal", "/accounting/mapping", "/accounting/accounts",
                "/accounting/accounts/new", "/accounting/fiscal-years",
                "/accounting/journal/1"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'dir="rtl"' in response.get_data(as_text=True)
