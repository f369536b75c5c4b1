"""A closed ticket's reply form offers only the internal note, already chosen."""

import re

from core.extensions import db
from tests.conftest import csrf_from
from tests.modules.service.ticket_helpers import make_customer, make_ticket


def _kinds(html: str) -> dict[str, bool]:
    """The "Send as" radio buttons of the reply form: value → checked."""
    form = html.split("data-reply-form", 1)[1].split("</form>", 1)[0]
    return {m.group(2): bool(m.group(1) or m.group(3)) for m in re.finditer(
        r'<input(\s+checked)?[^>]*name="kind"[^>]*value="(\w+)"([^>]*\schecked)?', form)}


def test_a_closed_ticket_offers_only_the_internal_note(app, client, make_user, login):
    from modules.service.models.tickets import Ticket
    from modules.service.tickets import change_status

    make_user(seats=["service"], locale="en")
    ticket_id = make_ticket(app, make_customer(app), "admin@example.ir", body="Broken roller")
    login()
    url = f"/service/tickets/{ticket_id}"
    assert _kinds(client.get(url).get_data(as_text=True)) == {"public": True, "internal": False}
    with app.test_request_context():
        change_status(db.session.get(Ticket, ticket_id), "closed")
        db.session.commit()
    page = client.get(url)
    assert _kinds(page.get_data(as_text=True)) == {"internal": True}
    noted = client.post(url + "/reply", data={"csrf_token": csrf_from(page), "kind": "internal",
                                              "body": "Closed after the visit"},
                        follow_redirects=True)
    assert b"Note added." in noted.data
    refused = client.post(url + "/reply", data={"csrf_token": csrf_from(page), "kind": "public",
                                                "body": "late"}, follow_redirects=True)
    assert b"This ticket is closed" in refused.data
    with app.app_context():
        assert [m.kind for m in db.session.get(Ticket, ticket_id).messages] == [
            "customer", "internal"]
