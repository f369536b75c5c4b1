"""Every event produces the documented journal entry (postings module docstring), balanced,
once per key; the backfill command posts what is missing."""

from datetime import date, timedelta

import pytest

from core.extensions import db
from tests.modules.accounting_link.journal_helpers import (
    all_entries,
    balanced,
    credit_note,
    entry,
    legs,
    seed,
    two_category_invoice,
)
from tests.modules.sales.document_helpers import user


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def seeded(app, make_user):
    return seed(app, make_user)


def _customer(customer_id):
    from core.customers.models import Customer

    return db.session.get(Customer, customer_id)


def test_invoice_with_two_categories_discount_and_vat(app, seeded):
    from modules.sales.models.documents import Invoice

    invoice_id = two_category_invoice(app, seeded)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        posted = entry(f"sales.invoice:{invoice_id}")
        # laptops 2,400,000 − 10% = 2,160,000; setup 500,000; the 100,000 document discount
        # spreads 81,203 / 18,797; VAT 10% per line 207,880 + 48,120
        assert (invoice.total, invoice.vat, invoice.discounts) == (2_816_000, 256_000, 340_000)
        assert legs(posted) == [
            ("receivables", 2_816_000, 0), ("discounts", 340_000, 0),
            (f"revenue:{seeded['computers']}", 0, 2_400_000),
            (f"revenue:{seeded['services']}", 0, 500_000), ("vat_payable", 0, 256_000)]
        assert balanced(posted) and posted.total == 3_156_000
        assert (posted.kind, posted.source_type, posted.source_id) == (
            "invoice", "sales.invoice", invoice_id)
        assert posted.customer_id == seeded["customer"]
        assert posted.reference == invoice.reference  # en: Latin digits, as sales shows it
        assert posted.description == f"Invoice {invoice.reference} to آلفا"
        # both categories fall back to the default revenue account until they are mapped
        assert {line.account.code for line in posted.lines} == {"1104", "4102", "4101", "2105"}


def test_invoice_description_is_in_the_deployment_language(app, seeded):
    from core.database import set_setting
    from modules.sales.models.documents import Invoice

    with app.app_context():
        set_setting("display.language", "fa")
        db.session.commit()
    invoice_id = two_category_invoice(app, seeded)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        posted = entry(f"sales.invoice:{invoice_id}")
        persian = invoice.reference.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        assert posted.reference == persian
        assert persian in posted.description and "Invoice" not in posted.description


def test_credit_note_is_the_mirror_image(app, seeded):
    invoice_id = two_category_invoice(app, seeded)
    full = credit_note(app, invoice_id)
    with app.app_context():
        posted = entry(f"sales.invoice:{full}")
        assert posted.kind == "credit_note"
        assert legs(posted) == [
            (f"revenue:{seeded['computers']}", 2_400_000, 0),
            (f"revenue:{seeded['services']}", 500_000, 0), ("vat_payable", 256_000, 0),
            ("receivables", 0, 2_816_000), ("discounts", 0, 340_000)]
        assert balanced(posted)
        assert posted.description.startswith("Credit note ")


def test_partial_credit_note_of_one_category(app, seeded):
    invoice_id = two_category_invoice(app, seeded)
    note = credit_note(app, invoice_id, [{"product_id": seeded["setup"], "quantity": 1}])
    with app.app_context():
        assert legs(entry(f"sales.invoice:{note}")) == [
            (f"revenue:{seeded['services']}", 500_000, 0), ("vat_payable", 50_000, 0),
            ("receivables", 0, 550_000)]


@pytest.mark.parametrize("method", ["cash", "card", "transfer"])
def test_payment_goes_to_the_bank_of_its_method(app, seeded, method):
    from modules.sales import payments

    two_category_invoice(app, seeded)
    with app.test_request_context():
        yesterday = payments.today() - timedelta(days=1)
        payment = payments.record_payment(_customer(seeded["customer"]), amount=1_000_000,
                                          method=method, reference="7788", by=user(),
                                          received_on=yesterday)
        db.session.commit()
        posted = entry(f"sales.payment:{payment.id}")
        assert posted.entry_date == yesterday  # the day the money came in
        assert legs(posted) == [(f"bank:{method}", 1_000_000, 0), ("receivables", 0, 1_000_000)]
        assert (posted.kind, posted.reference, posted.customer_id) == (
            "payment", "7788", seeded["customer"])
        code = {"cash": "1101", "card": "1102", "transfer": "1103"}[method]
        assert posted.lines[0].account.code == code


def _cheque(app, seeded, amount=800_000, sayad="1234567890123456"):
    from modules.sales import payments

    payment = payments.record_payment(
        _customer(seeded["customer"]), amount=amount, method="cheque", by=user(),
        sayad_number=sayad, bank="ملت", cheque_due_date=date.today() + timedelta(days=30))
    db.session.commit()
    return payment


def test_cheque_received_then_deposited_then_cleared(app, seeded):
    from modules.sales import payments

    two_category_invoice(app, seeded)
    with app.test_request_context():
        cheque = _cheque(app, seeded)
        assert legs(entry(f"sales.payment:{cheque.id}")) == [
            ("cheques_in_hand", 800_000, 0), ("receivables", 0, 800_000)]
        assert entry(f"sales.payment:{cheque.id}").reference == "1234567890123456"
        before = len(all_entries())
        payments.set_cheque_status(cheque, "deposited", by=user())
        db.session.commit()
        assert len(all_entries()) == before  # deposited: no entry
        payments.set_cheque_status(cheque, "cleared", by=user())
        db.session.commit()
        cleared = entry(f"sales.payment:{cheque.id}:cleared")
        assert cleared.kind == "cheque"
        assert legs(cleared) == [("bank:cheque", 800_000, 0), ("cheques_in_hand", 0, 800_000)]
        assert cleared.description == "Cheque from آلفا cleared"


def test_cheque_bounced_reopens_the_receivable_once(app, seeded):
    from modules.sales import payments

    two_category_invoice(app, seeded)
    with app.test_request_context():
        cheque = _cheque(app, seeded, amount=600_000)
        payments.set_cheque_status(cheque, "bounced", by=user())
        db.session.commit()
        bounced = entry(f"sales.payment:{cheque.id}:bounced")
        assert legs(bounced) == [("receivables", 600_000, 0), ("cheques_in_hand", 0, 600_000)]
        # payment_recorded (negative) and cheque_status_changed share the key: one entry
        assert [e.key for e in all_entries() if e.source_id == cheque.id
                and e.source_type == "sales.payment"] == [
            f"sales.payment:{cheque.id}", f"sales.payment:{cheque.id}:bounced"]


def _member(app):
    from tests.modules.loyalty.club_helpers import make_member

    return make_member(app)


def test_points_earned_redeemed_expired_reversed_and_released(app, seeded):
    from modules.loyalty import ledger
    from tests.modules.loyalty.club_helpers import member

    member_id = _member(app)
    today = ledger.today()
    with app.test_request_context():
        earned = ledger.earn(member(member_id), 100, reason="purchase", reference="INV-1")
        db.session.commit()
        assert legs(entry(f"loyalty.entry:{earned.id}")) == [
            ("points_expense", 100_000, 0), ("points_liability", 0, 100_000)]
        assert entry(f"loyalty.entry:{earned.id}").kind == "points_issued"
        plus = ledger.adjust(member(member_id), 5, reason="goodwill", by=user())
        db.session.commit()
        assert legs(entry(f"loyalty.entry:{plus.id}")) == [
            ("points_expense", 5_000, 0), ("points_liability", 0, 5_000)]
        spent = ledger.redeem(member(member_id), 30, reason="reward")
        db.session.commit()
        assert legs(entry(f"loyalty.entry:{spent.id}")) == [
            ("points_liability", 30_000, 0), ("discounts", 0, 30_000)]
        assert entry(f"loyalty.entry:{spent.id}").kind == "points_redeemed"
        minus = ledger.adjust(member(member_id), -5, reason="error", by=user())
        db.session.commit()
        assert legs(entry(f"loyalty.entry:{minus.id}")) == [
            ("points_liability", 5_000, 0), ("discounts", 0, 5_000)]
        back = ledger.reverse_earning(member(member_id), "INV-1", 20, reason="refund")
        db.session.commit()
        assert [legs(entry(f"loyalty.entry:{e.id}")) for e in back] == [[
            ("points_liability", 20_000, 0), ("points_expense", 0, 20_000)]]
        assert entry(f"loyalty.entry:{back[0].id}").kind == "points_reversed"

        short = ledger.earn(member(member_id), 7, reason="promo",
                            expires_on=today + timedelta(days=1))
        db.session.commit()
        assert ledger.expire_due(today + timedelta(days=3)) == 1
        db.session.commit()
        expired = [e for e in all_entries() if e.kind == "points_expired"]
        assert [legs(e) for e in expired] == [
            [("points_liability", 7_000, 0), ("points_breakage", 0, 7_000)]]
        assert short.id != expired[0].source_id

        pending = ledger.earn(member(member_id), 9, reason="later", pending_days=2)
        db.session.commit()
        assert legs(entry(f"loyalty.entry:{pending.id}")) == [
            ("points_expense", 9_000, 0), ("points_liability", 0, 9_000)]
        count = len(all_entries())
        assert ledger.release_due(today + timedelta(days=3)) == 1
        db.session.commit()
        assert len(all_entries()) == count  # release: no entry
        assert all(balanced(e) for e in all_entries())


def test_posting_the_same_event_twice_writes_one_entry(app, seeded):
    from modules.accounting_link import postings
    from modules.sales.models.documents import Invoice

    invoice_id = two_category_invoice(app, seeded)
    with app.test_request_context():
        first = entry(f"sales.invoice:{invoice_id}")
        again = postings.post_invoice(db.session.get(Invoice, invoice_id))
        db.session.commit()
        assert again.id == first.id
        assert len([e for e in all_entries() if e.source_type == "sales.invoice"]) == 1


def test_nothing_is_posted_while_the_module_is_inactive_and_backfill_catches_up(
        app, seeded, monkeypatch):
    from core import modules as core_modules
    from modules.sales import payments

    real = core_modules.is_active
    monkeypatch.setattr(core_modules, "is_active",
                        lambda name: False if name == "accounting_link" else real(name))
    invoice_id = two_category_invoice(app, seeded)
    with app.test_request_context():
        cheque = _cheque(app, seeded)
        payments.set_cheque_status(cheque, "bounced", by=user())
        db.session.commit()
        cheque_id = cheque.id
        from modules.loyalty import ledger
        from tests.modules.loyalty.club_helpers import member

        points = ledger.earn(member(_member(app)), 12, reason="before the link")
        db.session.commit()
        points_id = points.id
        assert all_entries() == []
    monkeypatch.setattr(core_modules, "is_active", real)

    result = app.test_cli_runner().invoke(args=["crm", "accounting", "backfill"])
    assert result.exit_code == 0, result.output
    assert "1 invoices and credit notes, 1 payments, 1 cheque changes" in result.output
    with app.app_context():
        assert legs(entry(f"sales.invoice:{invoice_id}"))[0] == ("receivables", 2_816_000, 0)
        assert legs(entry(f"sales.payment:{cheque_id}:bounced")) == [
            ("receivables", 800_000, 0), ("cheques_in_hand", 0, 800_000)]
        assert legs(entry(f"loyalty.entry:{points_id}")) == [
            ("points_expense", 12_000, 0), ("points_liability", 0, 12_000)]
        count = len(all_entries())
    again = app.test_cli_runner().invoke(args=["crm", "accounting", "backfill"])
    assert "0 invoices and credit notes, 0 payments, 0 cheque changes, 0 club" in again.output
    with app.app_context():
        assert len(all_entries()) == count
