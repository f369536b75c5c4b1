"""Tickets in the UI: list, search and filters, the form, replies and notes, changes,
merging, and record scope (another agent's ticket is a 404)."""

import pytest

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.service.ticket_helpers import make_customer, make_ticket, sign_in, user_id


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en"}


@pytest.fixture
def desk(app, make_user):
    """An admin and two agents (own scope), each with a customer and a ticket."""
    make_user("root@example.ir", role="admin", seats=["service"])
    make_user("ali@example.ir", role="agent", seats=["service"])
    make_user("sara@example.ir", role="agent", seats=["service"])
    ids = {"ali_customer": make_customer(app, "ali@example.ir", last_name="رحیمی"),
           "sara_customer": make_customer(app, "sara@example.ir", last_name="Karimi")}
    ids["ali_ticket"] = make_ticket(app, ids["ali_customer"], "ali@example.ir",
                                    subject="Printer jams", serial="SN-4455", body="It jams")
    ids["sara_ticket"] = make_ticket(app, ids["sara_customer"], "sara@example.ir",
                                     subject="Invoice wrong", priority="high")
    return ids


def _ticket(ticket_id):
    from modules.service.models.tickets import Ticket

    db.session.expire_all()
    return db.session.get(Ticket, ticket_id)


def test_list_searches_reference_serial_and_normalised_text(app, desk, login):
    client = login("root@example.ir")
    page = client.get("/service/tickets").get_data(as_text=True)
    assert "Printer jams" in page and "Invoice wrong" in page
    ref = f"T-{desk['ali_ticket']:06d}"
    for query in (ref, str(desk["ali_ticket"]), "SN-4455", "printer", "رحيمي"):  # Arabic ye
        found = client.get("/service/tickets", query_string={"q": query}).get_data(as_text=True)
        assert "Printer jams" in found, query
        assert "Invoice wrong" not in found, query
    high = client.get("/service/tickets?priority=high").get_data(as_text=True)
    assert "Invoice wrong" in high and "Printer jams" not in high
    none = client.get("/service/tickets?q=nothing-like-this").get_data(as_text=True)
    assert "No ticket matches" in none


def test_list_filters_assignee_and_open_ones(app, desk, login):
    from modules.service.tickets import change_status

    with app.test_request_context():
        change_status(_ticket(desk["sara_ticket"]), "closed")
        db.session.commit()
    client = login("root@example.ir")
    open_ones = client.get("/service/tickets?status=open_ones").get_data(as_text=True)
    assert "Printer jams" in open_ones and "Invoice wrong" not in open_ones
    unassigned = client.get("/service/tickets?assignee=none").get_data(as_text=True)
    assert "No ticket matches" in unassigned
    mine = sign_in(app, "ali@example.ir").get("/service/tickets?assignee=me").get_data(as_text=True)
    assert "Printer jams" in mine


def test_keyset_pages(app, desk, login):
    for i in range(30):
        make_ticket(app, desk["ali_customer"], subject=f"Bulk {i:02d}")
    client = login("root@example.ir")
    first = client.get("/service/tickets?sort=subject&size=25").get_data(as_text=True)
    assert "Bulk 00" in first and "Printer jams" not in first
    import re

    token = re.search(r'after=([^&"]+)', first).group(1)
    second = client.get(f"/service/tickets?sort=subject&size=25&after={token}").get_data(
        as_text=True)
    assert "Printer jams" in second and "Bulk 00" not in second


def test_agent_sees_only_own_ticket(app, desk, login):
    client = login("ali@example.ir")
    listing = client.get("/service/tickets").get_data(as_text=True)
    assert "Printer jams" in listing and "Invoice wrong" not in listing
    assert client.get(f"/service/tickets/{desk['sara_ticket']}").status_code == 404
    page = client.get(f"/service/tickets/{desk['ali_ticket']}")
    response = client.post(f"/service/tickets/{desk['sara_ticket']}/reply", data={
        "csrf_token": csrf_from(page), "kind": "public", "body": "hello"})
    assert response.status_code == 404


def test_new_ticket_form(app, desk, login):
    from modules.service.models.tickets import Ticket

    client = login("ali@example.ir")
    page = client.get(f"/service/tickets/new?customer={desk['ali_customer']}")
    assert "رحیمی" in page.get_data(as_text=True)
    empty = client.post("/service/tickets/new", data={
        "csrf_token": csrf_from(page), "customer_id": desk["ali_customer"], "subject": "",
        "type": "complaint", "priority": "normal", "channel": "phone", "category_id": 0})
    assert empty.status_code == 200 and b"This field is required" in empty.data
    foreign = client.post("/service/tickets/new", data={
        "csrf_token": csrf_from(page), "customer_id": desk["sara_customer"],
        "subject": "Not mine", "type": "complaint", "priority": "normal", "channel": "phone",
        "category_id": 0})
    assert b"Choose the customer." in foreign.data
    done = client.post("/service/tickets/new", data={
        "csrf_token": csrf_from(page), "customer_id": desk["ali_customer"],
        "subject": "Broken screen", "body": "Screen cracked on arrival", "type": "warranty",
        "priority": "urgent", "channel": "phone", "category_id": 0, "serial": "SER-1"})
    assert done.status_code == 302
    with app.app_context():
        ticket = db.session.query(Ticket).filter_by(subject="Broken screen").one()
        assert (ticket.type, ticket.priority, ticket.serial) == ("warranty", "urgent", "SER-1")
        assert [m.kind for m in ticket.messages] == ["customer"]
        assert ticket.created_by_id is not None


def test_reply_note_and_status(app, desk, login):
    client = login("ali@example.ir")
    url = f"/service/tickets/{desk['ali_ticket']}"
    page = client.get(url)
    token = csrf_from(page)
    client.post(url + "/reply", data={"csrf_token": token, "kind": "internal",
                                      "body": "Check the roller"})
    client.post(url + "/reply", data={"csrf_token": token, "kind": "public",
                                      "body": "We will send a technician"})
    shown = client.get(url).get_data(as_text=True)
    assert 'data-message="internal"' in shown and "Check the roller" in shown
    assert 'data-message="public"' in shown
    with app.app_context():
        ticket = _ticket(desk["ali_ticket"])
        assert [m.kind for m in ticket.messages] == ["customer", "internal", "public"]
        assert ticket.status == "open" and ticket.first_responded_at is not None
    client.post(url + "/change", data={"csrf_token": token, "status": "closed",
                                       "priority": "high", "team_id": 0,
                                       "owner_id": user_id(app, "ali@example.ir")})
    with app.app_context():
        ticket = _ticket(desk["ali_ticket"])
        assert (ticket.status, ticket.priority) == ("closed", "high")
        assert {"status", "priority"} <= {e.kind for e in ticket.events}
    refused = client.post(url + "/reply", data={"csrf_token": token, "kind": "public",
                                                "body": "late"}, follow_redirects=True)
    assert b"This ticket is closed" in refused.data


def test_merge_moves_messages_and_closes_the_loser(app, desk, login):
    other = make_ticket(app, desk["ali_customer"], "ali@example.ir", subject="Printer jams too",
                        body="Second mail about it")
    client = login("ali@example.ir")
    url = f"/service/tickets/{other}"
    token = csrf_from(client.get(url))
    itself = client.post(url + "/merge", data={"csrf_token": token, "into": f"T-{other:06d}"},
                         follow_redirects=True)
    assert b"cannot be merged into itself" in itself.data
    done = client.post(url + "/merge", data={"csrf_token": token,
                                              "into": f"T-{desk['ali_ticket']:06d}"})
    assert done.status_code == 302
    with app.app_context():
        loser, survivor = _ticket(other), _ticket(desk["ali_ticket"])
        assert (loser.status, loser.merged_into_id) == ("closed", survivor.id)
        assert loser.messages == []
        assert sorted(m.body for m in survivor.messages) == ["It jams", "Second mail about it"]
        assert "merged" in {e.kind for e in loser.events}
        assert "merged" in {e.kind for e in survivor.events}


def test_merge_across_customers_is_refused(app, desk):
    from modules.service.tickets import TicketError, merge_tickets

    with app.test_request_context():
        with pytest.raises(TicketError, match="same customer"):
            merge_tickets(_ticket(desk["ali_ticket"]), _ticket(desk["sara_ticket"]))


def test_categories_admin(app, desk, login):
    from modules.service.models.tickets import Category

    assert sign_in(app, "ali@example.ir").get("/service/categories").status_code == 403
    client = login("root@example.ir")
    assert b"No categories yet" in client.get("/service/categories").data
    page = client.get("/service/categories/new")
    client.post("/service/categories/new", data={"csrf_token": csrf_from(page),
                                                 "name": "Delivery", "team_id": 0,
                                                 "position": "۲", "active": "y"})
    with app.app_context():
        category = db.session.query(Category).one()
        assert (category.name, category.position, category.active) == ("Delivery", 2, True)
    assert b"Delivery" in client.get("/service/categories").data


def test_pages_in_persian(app, desk):
    from core.auth.models import User

    with app.app_context():
        db.session.query(User).filter_by(email="root@example.ir").one().locale = "fa"
        db.session.commit()
    client = sign_in(app, "root@example.ir")
    ref = f"T-{desk['ali_ticket']:06d}".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    listing = client.get("/service/tickets").get_data(as_text=True)
    assert 'dir="rtl"' in listing and ref in listing
    shown = client.get(f"/service/tickets/{desk['ali_ticket']}").get_data(as_text=True)
    assert ref in shown and "It jams" in shown
    assert client.get("/service/tickets/new").status_code == 200
    empty = client.get("/service/tickets?q=zzzz").get_data(as_text=True)
    assert "data-empty-state" in empty


def test_a_catalogue_code_becomes_the_product(app, desk):
    from modules.sales.catalog import create_product
    from modules.service.models.tickets import Ticket

    with app.test_request_context():
        product = create_product(code="LAP-01", name="لپ‌تاپ ایسوس", price=1000)
        db.session.commit()
        product_id = product.id
    client = sign_in(app, "ali@example.ir")
    page = client.get(f"/service/tickets/new?customer={desk['ali_customer']}")
    for typed in ("LAP-01", "Some old phone"):
        client.post("/service/tickets/new", data={
            "csrf_token": csrf_from(page), "customer_id": desk["ali_customer"],
            "subject": typed, "type": "warranty", "priority": "normal", "channel": "phone",
            "category_id": 0, "product_name": typed})
    with app.app_context():
        coded = db.session.query(Ticket).filter_by(subject="LAP-01").one()
        free = db.session.query(Ticket).filter_by(subject="Some old phone").one()
        assert (coded.product_id, coded.product_name) == (product_id, "لپ‌تاپ ایسوس")
        assert (free.product_id, free.product_name) == (None, "Some old phone")
