"""Customer test helpers: agents with record scope "own", customers made through the service."""

import pytest

from core.validators import national_code_check_digit


def national_code(first_nine: str = "001234567") -> str:
    """A valid national code from nine digits."""
    return first_nine + str(national_code_check_digit(first_nine))


@pytest.fixture
def make_customer(app):
    """Create a customer owned by a user (email): ``make_customer("a@x.ir", first_name=...)``."""
    from core.auth.models import User
    from core.customers.services import create_customer
    from core.extensions import db

    def make(owner_email=None, **fields):
        with app.test_request_context():
            by = db.session.query(User).filter_by(email=owner_email).one() if owner_email else None
            fields.setdefault("kind", "person")
            customer = create_customer(by=by, **fields)
            db.session.commit()
            return customer.id

    return make


@pytest.fixture
def make_token(app):
    """A personal API token's secret for a user."""
    from core.api.tokens import create_token
    from core.auth.models import User
    from core.extensions import db

    def make(email, scopes="read,write"):
        with app.app_context():
            user = db.session.query(User).filter_by(email=email).one()
            _token, secret = create_token(user, "test", scopes, None)
            db.session.commit()
            return secret

    return make


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
