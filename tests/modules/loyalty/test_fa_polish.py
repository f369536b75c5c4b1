"""What people read about club entries: the invoice's number, not the ledger's machine key
(``sales.invoice:12``), isolated in Persian text; the tier card without contradictions."""

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from core.extensions import db
from core.i18n import LRI, PDI, to_persian_digits
from tests.modules.loyalty.club_helpers import make_member
from tests.modules.sales.document_helpers import make_buyer, make_invoice, make_product, set_company


@pytest.fixture
def bought(app, make_user):
    """A member who bought a laptop on a posted invoice under the rule "Laptop purchase"."""
    from core.customers.models import Customer
    from modules.loyalty.members import enrol
    from modules.loyalty.models.rules import Rule
    from modules.sales.models.documents import Invoice

    make_user(seats=["sales", "loyalty"], locale="fa")
    set_company(app)
    customer = make_buyer(app)
    with app.test_request_context():
        db.session.add(Rule(name="خرید لپ‌تاپ", kind="spend", points=1, per_amount=10_000))
        member = enrol(db.session.get(Customer, customer), via="manual")
        db.session.commit()
        member_id = member.id
    invoice_id = make_invoice(app, customer, [{"product_id": make_product(app, price=1_000_000),
                                               "quantity": 1}], post=True)
    with app.app_context():
        reference = db.session.get(Invoice, invoice_id).reference
    return {"customer": customer, "member": member_id, "invoice": invoice_id,
            "reference": reference}


def test_the_reason_names_the_invoice_by_its_number_and_the_key_stays(app, bought):
    from modules.loyalty.models.ledger import Entry

    with app.app_context():
        earned = db.session.execute(select(Entry).where(
            Entry.member_id == bought["member"], Entry.kind == "earn")).scalar_one()
        assert earned.reference == f"sales.invoice:{bought['invoice']}"  # the machine key
        assert earned.reason.startswith("خرید لپ‌تاپ — ")
        assert f"{LRI}{to_persian_digits(bought['reference'])}{PDI}" in earned.reason
        assert "sales.invoice" not in earned.reason


def test_reference_labels_in_both_languages(app, bought):
    from modules.loyalty.models.rewards import Reward
    from modules.loyalty.services import reference_label

    with app.test_request_context():
        reward = Reward(kind="gift_product", name_fa="فلش مموری", name_en="USB stick",
                        cost_points=50)
        db.session.add(reward)
        db.session.flush()
        with force_locale("en"):
            assert reference_label(f"sales.invoice:{bought['invoice']}") == (
                f"Invoice {bought['reference']}")
            assert reference_label(f"loyalty.reward:{reward.id}") == "USB stick"
        with force_locale("fa"):
            assert reference_label(f"loyalty.reward:{reward.id}") == "فلش مموری"
            assert f"{LRI}{to_persian_digits(bought['reference'])}{PDI}" in reference_label(
                f"sales.invoice:{bought['invoice']}")
        assert reference_label("") == ""
        db.session.rollback()


def test_member_page_and_timeline_show_the_invoice_not_the_key(app, client, login, bought):
    from modules.loyalty.services import reference_label

    login()
    page = client.get(f"/loyalty/members/{bought['member']}").get_data(as_text=True)
    with app.test_request_context():
        label = reference_label(f"sales.invoice:{bought['invoice']}")
    assert "sales.invoice" not in page
    assert f"<td data-entry-reference>{label}</td>" in page
    timeline = client.get(f"/customers/{bought['customer']}").get_data(as_text=True)
    assert "sales.invoice" not in timeline and label in timeline


def test_with_no_tiers_the_member_page_says_only_no_tier_yet(app, client, login, make_user):
    make_user(seats=["loyalty"], locale="en")
    member_id = make_member(app)
    login()
    page = client.get(f"/loyalty/members/{member_id}").get_data(as_text=True)
    assert "No tier yet" in page
    assert "This is the highest tier." not in page and "data-tier-highest" not in page
