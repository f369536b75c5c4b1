"""The journal writer: balanced entries only, one per key, gapless numbers per fiscal year,
immutable entries corrected by reversals, closed fiscal years; the journal and entry pages."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.accounting_link.journal_helpers import (
    all_entries,
    entry,
    legs,
    seed,
    two_category_invoice,
)


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


def _post(key, amount=1_000, when=None, **kw):
    from modules.accounting_link.journal import Leg, post_entry

    return post_entry(kind="manual", source_type="test", source_id=None, key=key,
                      legs=[Leg("bank:cash", debit=amount), Leg("receivables", credit=amount)],
                      occurred_at=when, **kw)


def test_unbalanced_negative_or_empty_entries_are_refused(app):
    from modules.accounting_link.journal import JournalError, Leg, post_entry

    with app.test_request_context(), force_locale("en"):
        with pytest.raises(JournalError, match="does not balance: debits 100, credits 90"):
            post_entry(kind="manual", source_type="test", source_id=None, key="a",
                       legs=[Leg("bank:cash", debit=100), Leg("revenue", credit=90)])
        with pytest.raises(JournalError, match="a debit or a credit above zero"):
            post_entry(kind="manual", source_type="test", source_id=None, key="b",
                       legs=[Leg("bank:cash", debit=-5), Leg("revenue", credit=-5)])
        assert post_entry(kind="manual", source_type="test", source_id=None, key="c",
                          legs=[Leg("bank:cash"), Leg("revenue")]) is None
        assert all_entries() == []


def test_numbers_are_gapless_per_fiscal_year_and_keys_post_once(app):
    from core.i18n import fiscal_year_of, local_date

    now = datetime.now(UTC)
    last_year = now - timedelta(days=400)
    with app.test_request_context():
        for i in range(3):
            _post(f"k{i}", when=now)
            _post(f"old{i}", when=last_year)
        assert _post("k1", amount=5, when=now).total == 1_000  # same key: the first entry
        db.session.commit()
        numbers = {}
        for e in all_entries():
            numbers.setdefault(e.fiscal_year, []).append(e.number)
        this, old = fiscal_year_of(local_date(now)), fiscal_year_of(local_date(last_year))
        assert numbers == {this: [1, 2, 3], old: [1, 2, 3]}


def test_a_reversal_leaves_the_original_untouched_and_nets_to_zero(app, make_user):
    from modules.accounting_link.journal import EntryImmutable, JournalError, reverse_entry
    from modules.accounting_link.models.journal import JournalEntry, JournalLine

    with app.test_request_context():
        original = _post("orig", amount=2_500, reference="R-1", description="cash sale")
        db.session.commit()
        before = (original.total, legs(original), original.description)
        reversal = reverse_entry(original, reason="typed twice")
        db.session.commit()
        assert reversal.reverses_id == original.id and reversal.kind == "reversal"
        assert legs(reversal) == [("bank:cash", 0, 2_500), ("receivables", 2_500, 0)]
        assert reversal.description == "typed twice"
        net = {}
        for e in (original, reversal):
            for line in e.lines:
                net[line.account_id] = net.get(line.account_id, 0) + line.debit - line.credit
        assert set(net.values()) == {0}
        assert reverse_entry(original, reason="again").id == reversal.id  # once
        with pytest.raises(JournalError):
            reverse_entry(reversal, reason="undo the undo")

        original.description = "changed"
        with pytest.raises(EntryImmutable):
            db.session.flush()
        db.session.rollback()
        original = db.session.get(JournalEntry, original.id)
        original.lines[0].debit = 1
        with pytest.raises(EntryImmutable):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(JournalEntry, original.id))
        with pytest.raises(EntryImmutable):
            db.session.flush()
        db.session.rollback()
        db.session.add(JournalLine(entry_id=original.id, account_id=original.lines[0].account_id,
                                   role="x", debit=1, credit=0))
        with pytest.raises(EntryImmutable):
            db.session.flush()
        db.session.rollback()
        original = db.session.get(JournalEntry, original.id)
        assert (original.total, legs(original), original.description) == before


def test_an_event_in_a_closed_fiscal_year_posts_on_the_first_day_of_the_next(app):
    from core.i18n import fiscal_year_of, fiscal_year_range, local_date
    from modules.accounting_link.journal import (
        FiscalYearClosed,
        close_fiscal_year,
        create_fiscal_year,
    )
    from modules.accounting_link.models.journal import JournalEntry, JournalLine

    now = datetime.now(UTC)
    with app.test_request_context():
        year = fiscal_year_of(local_date(now))
        created = create_fiscal_year(year)
        assert (created.starts_on, created.ends_on + timedelta(days=1)) == \
            fiscal_year_range(year)
        close_fiscal_year(year)
        db.session.commit()
        moved = _post("late", when=now, description="cash sale")
        db.session.commit()
        assert moved.entry_date == fiscal_year_range(year)[1]
        assert moved.fiscal_year == year + 1 and moved.number == 1
        assert moved.description.startswith("cash sale (Dated ")
        assert f"in closed fiscal year {year}; posted on the first day of {year + 1}" \
            in moved.description
        account_id = moved.lines[0].account_id
        db.session.add(JournalEntry(
            fiscal_year=year, number=99, entry_date=local_date(now), kind="manual",
            source_type="test", key="direct", total=1,
            lines=[JournalLine(account_id=account_id, debit=1, credit=0),
                   JournalLine(account_id=account_id, debit=0, credit=1)]))
        with pytest.raises(FiscalYearClosed):
            db.session.flush()
        db.session.rollback()


# --- pages ---------------------------------------------------------------------------------

@pytest.fixture
def seeded(app, make_user):
    return seed(app, make_user)


def test_journal_filters_by_kind_account_customer_reference_and_period(
        app, client, login, seeded):
    from core.customers.services import create_customer
    from modules.accounting_link.models.journal import Account
    from modules.sales import payments
    from tests.modules.sales.document_helpers import user

    invoice_id = two_category_invoice(app, seeded)
    with app.test_request_context():
        other = create_customer(by=user(), kind="person", first_name="Sara",
                                last_name="Karimi")
        db.session.commit()
        payment = payments.record_payment(other, amount=300_000, method="cash", by=user())
        db.session.commit()
        payment_id, other_name = payment.id, other.display_name
        invoice_entry = entry(f"sales.invoice:{invoice_id}")
        ref = invoice_entry.reference
        cash = db.session.execute(select(Account).where(Account.code == "1101")).scalar()
    login()

    def keys(**args):
        html = client.get("/accounting/journal", query_string=args).get_data(as_text=True)
        return {k for k in (f"sales.invoice:{invoice_id}", f"sales.payment:{payment_id}")
                if f'data-entry-key="{k}"' in html}

    everything = {f"sales.invoice:{invoice_id}", f"sales.payment:{payment_id}"}
    assert keys() == everything
    assert keys(kind="invoice") == {f"sales.invoice:{invoice_id}"}
    assert keys(account=cash.id) == {f"sales.payment:{payment_id}"}
    assert keys(customer="آلفا") == {f"sales.invoice:{invoice_id}"}
    assert keys(customer=other_name.split()[0]) == {f"sales.payment:{payment_id}"}
    assert keys(q=ref) == {f"sales.invoice:{invoice_id}"}
    persian = ref.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert keys(q=persian) == {f"sales.invoice:{invoice_id}"}
    assert keys(**{"from": "1390/01/01", "to": "1390/12/29"}) == set()
    html = client.get("/accounting/journal?from=1403/13/01").get_data(as_text=True)
    assert "has no month 13" in html
    html = client.get("/accounting/journal").get_data(as_text=True)
    assert "2,816,000" in html and "Invoice " + ref in html


def test_entry_page_links_its_document_and_reverse_needs_a_reason(app, client, login, seeded):
    invoice_id = two_category_invoice(app, seeded)
    with app.app_context():
        posted = entry(f"sales.invoice:{invoice_id}")
        entry_id, label = posted.id, posted.reference_label
    login()
    page = client.get(f"/accounting/journal/{entry_id}")
    html = page.get_data(as_text=True)
    assert f'href="/sales/invoices/{invoice_id}" data-document-link' in html
    assert "data-reverse-form" in html
    token = csrf_from(page)
    refused = client.post(f"/accounting/journal/{entry_id}/reverse",
                          data={"csrf_token": token, "reason": "  "}, follow_redirects=True)
    assert "Say why the entry is reversed." in refused.get_data(as_text=True)
    assert client.post(f"/accounting/journal/{entry_id}/reverse",
                       data={"reason": "wrong customer"}).status_code == 400  # no CSRF
    done = client.post(f"/accounting/journal/{entry_id}/reverse",
                       data={"csrf_token": token, "reason": "wrong customer"},
                       follow_redirects=True)
    html = done.get_data(as_text=True)
    assert f"Entry {label} reversed by entry" in html
    assert f'href="/accounting/journal/{entry_id}" data-reverses-link' in html
    with app.app_context():
        reversal = entry(f"reversal:sales.invoice:{invoice_id}")
        assert reversal.description == "wrong customer"
        assert legs(reversal)[0] == ("receivables", 0, 2_816_000)
    html = client.get(f"/accounting/journal/{entry_id}").get_data(as_text=True)
    assert "data-reversed-by-link" in html and "data-reverse-form" not in html
    assert client.get("/accounting/journal/999999").status_code == 404


def test_viewers_cannot_reverse(app, client, login, make_user, seeded):
    invoice_id = two_category_invoice(app, seeded)
    with app.app_context():
        from core.auth.models import Role

        role = Role(name="accounting viewer", permissions=["accounting_link.view"])
        db.session.add(role)
        db.session.commit()
        entry_id = entry(f"sales.invoice:{invoice_id}").id
    make_user("viewer@example.ir", role="accounting viewer", seats=["accounting_link"])
    login("viewer@example.ir")
    page = client.get(f"/accounting/journal/{entry_id}")
    assert "data-reverse-form" not in page.get_data(as_text=True)
    assert client.post(f"/accounting/journal/{entry_id}/reverse",
                       data={"csrf_token": csrf_from(page), "reason": "x"}).status_code == 403
    with app.app_context():
        assert entry(f"reversal:sales.invoice:{invoice_id}") is None
