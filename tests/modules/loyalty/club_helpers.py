"""Helpers for the club tests: members made through the services, ledger checks."""

from core.extensions import db
from tests.modules.service.ticket_helpers import make_customer


def make_member(app, **fields) -> int:
    """A new customer enrolled in the club; returns the member id."""
    from core.customers.models import Customer
    from modules.loyalty.members import enrol

    customer_id = make_customer(app, **fields)
    with app.test_request_context():
        member = enrol(db.session.get(Customer, customer_id), via="manual")
        db.session.commit()
        return member.id


def member(member_id):
    from modules.loyalty.models.members import Member

    return db.session.get(Member, member_id, populate_existing=True)


def assert_ledger_ok(member_id) -> None:
    from modules.loyalty.ledger import problems

    assert problems(member(member_id)) == []
