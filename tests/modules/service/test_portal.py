"""Service pages of the customer portal: own tickets only, no internal notes, replies, KB."""

import io

from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from
from tests.core.portal.helpers import make_customer, portal_sign_in


def _ticket(app, customer_id, subject="چاپگر روشن نمی‌شود", body="از دیروز خاموش است"):
    from core.customers.models import Customer
    from modules.service.tickets import create_ticket

    with app.test_request_context():
        ticket = create_ticket(customer=db.session.get(Customer, customer_id), subject=subject,
                               body=body, channel="phone")
        db.session.commit()
        return ticket.id


def _message(app, ticket_id, kind, body, agent_email="admin@example.ir"):
    from core.auth.models import User
    from modules.service.models.tickets import Ticket
    from modules.service.tickets import add_message

    with app.test_request_context():
        agent = db.session.scalar(select(User).where(User.email == agent_email))
        message = add_message(db.session.get(Ticket, ticket_id), kind, body, by=agent,
                              notify=False)
        db.session.commit()
        return message.id


def _setup(app, client, make_user):
    make_user()
    mine = make_customer(app)
    other = make_customer(app, name="رضا کریمی", mobiles=("+989350001122",),
                          emails=("reza@example.ir",))
    portal_sign_in(app, client)
    return mine, other


def test_the_ticket_list_shows_only_my_tickets(app, client, make_user):
    mine, other = _setup(app, client, make_user)
    _ticket(app, mine, subject="گارانتی یخچال")
    _ticket(app, other, subject="مشکل فاکتور دیگری")
    page = client.get("/portal/service/tickets").get_data(as_text=True)
    assert "گارانتی یخچال" in page and "مشکل فاکتور دیگری" not in page
    found = client.get("/portal/service/tickets?q=يخچال").get_data(as_text=True)  # Arabic ي
    assert "گارانتی یخچال" in found
    assert "گارانتی یخچال" not in client.get(
        "/portal/service/tickets?state=closed").get_data(as_text=True)


def test_another_customers_ticket_is_404(app, client, make_user):
    mine, other = _setup(app, client, make_user)
    theirs = _ticket(app, other, subject="راز دیگری")
    assert client.get(f"/portal/service/tickets/{theirs}").status_code == 404
    page = client.get(f"/portal/service/tickets/{theirs}")
    assert client.post(f"/portal/service/tickets/{theirs}", data={
        "body": "x", "csrf_token": csrf_from(client.get("/portal/service/tickets"))
    }).status_code == 404
    assert "راز دیگری" not in page.get_data(as_text=True)


def test_internal_notes_are_never_shown(app, client, make_user):
    mine, _other = _setup(app, client, make_user)
    ticket_id = _ticket(app, mine)
    _message(app, ticket_id, "internal", "یادداشت داخلی: مشتری بدقول است")
    _message(app, ticket_id, "public", "سلام، لطفاً دکمه پشت دستگاه را بزنید")
    page = client.get(f"/portal/service/tickets/{ticket_id}").get_data(as_text=True)
    assert "لطفاً دکمه پشت دستگاه را بزنید" in page and "از دیروز خاموش است" in page
    assert "یادداشت داخلی" not in page and "بدقول" not in page


def test_an_attachment_on_an_internal_note_cannot_be_downloaded(app, client, make_user):
    from modules.service.attachments import save_attachment
    from modules.service.models.tickets import Message, Ticket

    mine, _other = _setup(app, client, make_user)
    ticket_id = _ticket(app, mine)
    note_id = _message(app, ticket_id, "internal", "گزارش داخلی")
    with app.test_request_context():
        ticket = db.session.get(Ticket, ticket_id)
        secret = save_attachment(ticket, "internal.txt", b"internal only",
                                 message=db.session.get(Message, note_id)).id
        db.session.commit()
    assert client.get(f"/portal/service/tickets/{ticket_id}/files/{secret}").status_code == 404


def test_open_a_ticket_with_a_product_and_a_file_then_reply(app, client, make_user):
    from datetime import date, timedelta

    from modules.service.models.assets import InstalledItem
    from modules.service.models.tickets import Attachment, Message, Ticket

    mine, _other = _setup(app, client, make_user)
    with app.app_context():
        db.session.add(InstalledItem(customer_id=mine, product_name="یخچال ساید", serial="SN-77",
                                     warranty_until=date.today() + timedelta(days=90)))
        db.session.commit()
        item_id = db.session.scalar(select(InstalledItem.id))
    form = client.get("/portal/service/tickets/new")
    assert "SN-77" in form.get_data(as_text=True)
    response = client.post("/portal/service/tickets/new", data={
        "subject": "یخچال صدا می‌دهد", "type": "warranty", "item_id": str(item_id),
        "body": "صدای بلند از موتور", "csrf_token": csrf_from(form),
        "files": (io.BytesIO(b"%PDF-1.4 receipt"), "رسید.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        ticket = db.session.scalar(select(Ticket))
        assert (ticket.customer_id, ticket.channel, ticket.type) == (mine, "portal", "warranty")
        assert (ticket.serial, ticket.installed_item_id, ticket.warranty_covered) == (
            "SN-77", item_id, True)
        [message] = db.session.scalars(select(Message)).all()
        assert (message.kind, message.body) == ("customer", "صدای بلند از موتور")
        attachment = db.session.scalar(select(Attachment))
        assert (attachment.message_id, attachment.filename) == (message.id, "رسید.pdf")
        ticket_id = ticket.id
    page = client.get(response.headers["Location"])
    assert "رسید.pdf" in page.get_data(as_text=True)
    assert client.get(f"/portal/service/tickets/{ticket_id}/files/{attachment.id}").data \
        == b"%PDF-1.4 receipt"
    response = client.post(f"/portal/service/tickets/{ticket_id}", data={
        "body": "هنوز صدا می‌دهد", "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    with app.app_context():
        last = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert (last.kind, last.channel, last.body) == ("customer", "portal", "هنوز صدا می‌دهد")


def test_a_file_that_lies_about_its_type_is_refused(app, client, make_user):
    from modules.service.models.tickets import Ticket

    _setup(app, client, make_user)
    form = client.get("/portal/service/tickets/new")
    response = client.post("/portal/service/tickets/new", data={
        "subject": "عکس", "type": "question", "item_id": "0", "body": "ببینید",
        "csrf_token": csrf_from(form),
        "files": (io.BytesIO(b"MZ\x90\x00 not a picture"), "photo.jpg"),
    }, content_type="multipart/form-data")
    assert response.status_code == 200 and b"photo.jpg" in response.data
    with app.app_context():
        assert db.session.scalar(select(Ticket)) is None


def test_a_reply_reopens_a_resolved_ticket_but_a_closed_one_takes_no_reply(app, client,
                                                                          make_user):
    from modules.service.models.tickets import Ticket
    from modules.service.tickets import change_status

    mine, _other = _setup(app, client, make_user)
    ticket_id = _ticket(app, mine)
    with app.test_request_context():
        change_status(db.session.get(Ticket, ticket_id), "resolved")
        db.session.commit()
    page = client.get(f"/portal/service/tickets/{ticket_id}")
    client.post(f"/portal/service/tickets/{ticket_id}", data={
        "body": "حل نشده", "csrf_token": csrf_from(page)})
    with app.app_context():
        assert db.session.get(Ticket, ticket_id).status == "open"
    with app.test_request_context():
        change_status(db.session.get(Ticket, ticket_id), "closed")
        db.session.commit()
    page = client.get(f"/portal/service/tickets/{ticket_id}")
    assert b"data-ticket-closed" in page.data and b"data-portal-reply" not in page.data


def test_knowledge_base_shows_public_articles_only(app, client, make_user):
    from modules.service.kb import create_article

    _setup(app, client, make_user)
    with app.test_request_context():
        public = create_article(title_fa="راه‌اندازی دوباره چاپگر", body_fa="دکمه را نگه دارید",
                                public=True).id
        internal = create_article(title_fa="چاپگر: تخفیف پنهان", body_fa="فقط کارکنان",
                                  public=False).id
        db.session.commit()
    page = client.get("/portal/service/kb?q=چاپگر").get_data(as_text=True)
    assert "راه‌اندازی دوباره چاپگر" in page and "تخفیف پنهان" not in page
    assert client.get(f"/portal/service/kb/{public}").status_code == 200
    assert client.get(f"/portal/service/kb/{internal}").status_code == 404
    suggestions = client.get("/portal/service/kb/suggest?subject=چاپگر خراب",
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "راه‌اندازی دوباره چاپگر" in suggestions and "تخفیف پنهان" not in suggestions
    assert "<html" not in suggestions


def test_portal_pages_need_the_portal_sign_in(app, client):
    response = client.get("/portal/service/tickets")
    assert response.status_code == 302 and "/portal/sign-in" in response.headers["Location"]
    assert client.get("/portal/service/kb/suggest?subject=abc").status_code == 302


def test_the_portal_menu_lists_the_service_pages(app, client, make_user):
    _setup(app, client, make_user)
    home = client.get("/portal/").get_data(as_text=True)
    assert 'data-portal-page="service_portal.tickets"' in home
    assert 'data-portal-page="service_portal.kb"' in home
