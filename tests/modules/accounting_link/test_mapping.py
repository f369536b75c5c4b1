"""Chart of accounts, mapping of roles (all years or one fiscal year) and fiscal years, through
the pages; a mapping change affects only entries posted afterwards."""

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.accounting_link.journal_helpers import entry, seed, two_category_invoice


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def seeded(app, make_user):
    return seed(app, make_user)


def _account(code):
    from modules.accounting_link.models.journal import Account

    return db.session.execute(select(Account).where(Account.code == code)).scalar()


def _new_account(client, code, name, kind="income"):
    page = client.get("/accounting/accounts/new")
    return client.post("/accounting/accounts/new", data={
        "csrf_token": csrf_from(page), "code": code, "name": name, "kind": kind,
        "active": "1"}, follow_redirects=True)


def test_accounts_are_added_with_unique_codes_edited_and_deleted_when_unused(
        app, client, login, seeded):
    login()
    done = _new_account(client, "۴۱۱۰", "Computer sales")
    assert "Account 4110 saved." in done.get_data(as_text=True)
    clash = _new_account(client, "4110", "Again")
    assert "Account 4110 already exists: Computer sales." in clash.get_data(as_text=True)
    with app.app_context():
        account_id = _account("4110").id
    page = client.get(f"/accounting/accounts/{account_id}/edit")
    client.post(f"/accounting/accounts/{account_id}/edit", data={
        "csrf_token": csrf_from(page), "code": "4110", "name": "Laptop sales",
        "kind": "income", "active": "1"})
    with app.app_context():
        assert _account("4110").name == "Laptop sales"
    listing = client.get("/accounting/accounts")
    client.post(f"/accounting/accounts/{account_id}/delete",
                data={"csrf_token": csrf_from(listing)})
    with app.app_context():
        assert _account("4110") is None


def _map(client, year=None, keep=True, **roles):
    """Send the mapping form as the page shows it (``keep``), with ``roles`` changed."""
    import re

    query = f"?year={year}" if year else ""
    page = client.get("/accounting/mapping" + query)
    data = {"csrf_token": csrf_from(page)}
    if keep:
        html = page.get_data(as_text=True)
        for select_html in re.findall(r'<select[^>]*name="(role-[^"]+)"(.*?)</select>', html,
                                      re.S):
            chosen = re.search(r'<option value="(\d+)" selected', select_html[1])
            if chosen:
                data[select_html[0]] = chosen.group(1)
    data.update({f"role-{role}": str(account_id) for role, account_id in roles.items()})
    return client.post("/accounting/mapping" + query, data=data, follow_redirects=True)


def test_mapping_changes_only_new_entries(app, client, login, seeded):
    first = two_category_invoice(app, seeded)
    login()
    page = client.get("/accounting/mapping").get_data(as_text=True)
    assert "Sales revenue: Computers" in page and "Sales revenue: Services" in page
    assert "Cheques in hand (received, not yet cleared)" in page
    _new_account(client, "4110", "Computer sales")
    with app.app_context():
        computers_account = _account("4110").id
    role = f"revenue:{seeded['computers']}"
    saved = _map(client, **{role: computers_account})
    assert "Mapping saved (1 changes)." in saved.get_data(as_text=True)
    second = two_category_invoice(app, seeded)
    with app.app_context():
        def codes(invoice_id):
            return {line.role: line.account.code
                    for line in entry(f"sales.invoice:{invoice_id}").lines}

        assert codes(first)[role] == "4101"  # posted before: unchanged
        assert codes(second)[role] == "4110"
        assert codes(second)[f"revenue:{seeded['services']}"] == "4101"  # still the default


def test_a_fiscal_year_mapping_overrides_every_year_only_in_that_year(
        app, client, login, seeded):
    from core.database import utcnow
    from core.i18n import fiscal_year_of, local_date
    from modules.accounting_link.journal import account_for

    login()
    _new_account(client, "1190", "Other receivables", kind="asset")
    _new_account(client, "1191", "Receivables next year", kind="asset")
    with app.app_context():
        year = fiscal_year_of(local_date(utcnow()))
        other, later = _account("1190").id, _account("1191").id
    _map(client, receivables=other)
    _map(client, year=year + 1, receivables=later)
    with app.app_context():
        assert account_for("receivables", year).code == "1190"
        assert account_for("receivables", year + 1).code == "1191"
        assert account_for("bank:card", year).code == "1102"  # standard chart
    html = client.get(f"/accounting/mapping?year={year + 1}").get_data(as_text=True)
    row = html.split('data-role="receivables"', 1)[1].split("</tr>", 1)[0]
    assert "Receivables next year" in row
    _map(client, year=year + 1, keep=False)  # every role left empty: inherit again
    with app.app_context():
        assert account_for("receivables", year + 1).code == "1190"


def test_fiscal_years_are_opened_and_closed_from_the_page(app, client, login, seeded):
    import jdatetime

    from core.database import set_setting, utcnow
    from core.i18n import fiscal_year_of, fiscal_year_range, local_date
    from modules.accounting_link.models.journal import FiscalYear

    with app.app_context():
        set_setting("fiscal.year_start_month", 4)
        db.session.commit()
        year = fiscal_year_of(local_date(utcnow()))
    login()
    page = client.get("/accounting/fiscal-years")
    client.post("/accounting/fiscal-years", data={"csrf_token": csrf_from(page),
                                                  "year": str(year)})
    bad = client.post("/accounting/fiscal-years", data={"csrf_token": csrf_from(page),
                                                        "year": "99"})
    assert bad.status_code == 422
    with app.app_context():
        row = db.session.execute(select(FiscalYear)).scalar_one()
        start = jdatetime.date.fromgregorian(date=row.starts_on)
        assert (start.year, start.month, start.day) == (year, 4, 1)
        assert row.ends_on < fiscal_year_range(year)[1] and not row.closed
    page = client.get("/accounting/fiscal-years")
    closed = client.post(f"/accounting/fiscal-years/{year}/close",
                         data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert f"Fiscal year {year} is closed." in closed.get_data(as_text=True)
    invoice_id = two_category_invoice(app, seeded)
    with app.app_context():
        posted = entry(f"sales.invoice:{invoice_id}")
        assert posted.fiscal_year == year + 1
        assert posted.entry_date == fiscal_year_range(year)[1]
        assert f"posted on the first day of {year + 1}" in posted.description


def test_only_managers_change_the_mapping(app, client, login, make_user, seeded):
    from core.auth.models import Role

    with app.app_context():
        db.session.add(Role(name="accounting viewer", permissions=["accounting_link.view"]))
        db.session.commit()
    make_user("viewer@example.ir", role="accounting viewer", seats=["accounting_link"])
    login("viewer@example.ir")
    page = client.get("/accounting/mapping")
    assert "Save the mapping" not in page.get_data(as_text=True)
    assert client.post("/accounting/mapping", data={
        "csrf_token": csrf_from(page), "role-receivables": "1"}).status_code == 403
    assert client.post("/accounting/fiscal-years", data={
        "csrf_token": csrf_from(page), "year": "1404"}).status_code == 403
