"""Tickets and the customer: 360 timeline entries and action, merge and anonymise handlers."""

import io

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.service.ticket_helpers import make_customer, make_ticket, sign_in

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def desk(app, make_user):
    make_user("root@example.ir", role="admin", seats=["service"])
    a = make_customer(app, "root@example.ir", last_name="Alavi", first_name="Reza")
    b = make_customer(app, "root@example.ir", last_name="Alavi")
    return {"a": a, "b": b, "ta": make_ticket(app, a, subject="Screen flickers", body="hi"),
            "tb": make_ticket(app, b, subject="Late delivery", body="where is it")}


def test_timeline_and_new_ticket_action(app, desk):
    from modules.service.tickets import change_status

    with app.test_request_context():
        from modules.service.models.tickets import Ticket

        change_status(db.session.get(Ticket, desk["ta"]), "closed")
        db.session.commit()
    client = sign_in(app, "root@example.ir")
    page = client.get(f"/customers/{desk['a']}").get_data(as_text=True)
    assert "Ticket opened: Screen flickers" in page
    assert "Ticket closed: Screen flickers" in page
    assert f"/service/tickets/new?customer={desk['a']}" in page
    assert "Late delivery" not in page


def test_customer_merge_moves_tickets(app, desk):
    from core.customers.merge import merge_customers
    from core.customers.models import Customer
    from modules.service.models.tickets import Ticket

    with app.test_request_context():
        merge_customers(db.session.get(Customer, desk["a"]), db.session.get(Customer, desk["b"]))
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Ticket, desk["tb"]).customer_id == desk["a"]


def test_anonymise_blanks_messages_and_files(app, desk):
    from core.customers.anonymise import anonymise_customer
    from core.customers.models import Customer
    from modules.service.attachments import path_for
    from modules.service.models.tickets import Attachment, Message, Ticket

    client = sign_in(app, "root@example.ir")
    url = f"/service/tickets/{desk['ta']}"
    client.post(url + "/reply", data={"csrf_token": csrf_from(client.get(url)),
                                      "kind": "public", "body": "send a photo",
                                      "files": [(io.BytesIO(PNG), "photo.png")]},
                content_type="multipart/form-data")
    with app.test_request_context():
        digest = db.session.query(Attachment).one().sha256
        assert path_for(digest).exists()
        anonymise_customer(db.session.get(Customer, desk["a"]))
        db.session.commit()
        bodies = db.session.query(Message.body).filter(Message.ticket_id == desk["ta"]).all()
        assert {b for (b,) in bodies} == {"—"}
        assert db.session.query(Attachment).count() == 0 and not path_for(digest).exists()
        assert db.session.get(Ticket, desk["tb"]).messages[0].body == "where is it"
