"""Helpers for the ticket tests: users, customers and tickets made through the services."""

from core.extensions import db


def user(email):
    from core.auth.models import User

    return db.session.query(User).filter_by(email=email).one() if email else None


def make_team(app, name, *emails) -> int:
    from core.auth.models import Team

    with app.app_context():
        team = Team(name=name)
        db.session.add(team)
        db.session.flush()
        for email in emails:
            user(email).team_id = team.id
        db.session.commit()
        return team.id


def make_customer(app, owner_email=None, **fields) -> int:
    from core.customers.services import create_customer

    with app.test_request_context():
        fields.setdefault("kind", "person")
        fields.setdefault("last_name", "مشتری")
        customer = create_customer(by=user(owner_email), **fields)
        db.session.commit()
        return customer.id


def make_ticket(app, customer_id, owner_email=None, **fields) -> int:
    from core.customers.models import Customer
    from modules.service.tickets import create_ticket

    with app.test_request_context():
        fields.setdefault("subject", "مشکل در تحویل")
        ticket = create_ticket(customer=db.session.get(Customer, customer_id),
                               owner=user(owner_email), **fields)
        db.session.commit()
        return ticket.id


def bearer_for(app, email) -> dict:
    """An Authorization header with a new personal API token of ``email``."""
    from core.api.tokens import create_token

    with app.app_context():
        _token, secret = create_token(user(email), "test", "read,write", None)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def sign_in(app, email, password="correct horse battery"):
    """A new test client signed in as ``email`` (several users in one test)."""
    from tests.conftest import csrf_from

    client = app.test_client()
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={"email": email, "password": password,
                                                "csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.data[:300]
    return client


def user_id(app, email) -> int:
    with app.app_context():
        return user(email).id
