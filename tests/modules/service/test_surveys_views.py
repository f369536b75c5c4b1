"""Satisfaction pages: results per agent, team and category; a new NPS round; Persian link."""

import re

from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from


def _setup(app):
    """Two answered CSAT requests for one agent, one NPS answer; returns the admin's name."""
    from core.auth.models import User
    from core.customers.services import create_customer
    from modules.service import surveys, tickets
    from modules.service.models.surveys import SurveyResponse

    with app.test_request_context():
        agent = db.session.execute(select(User)).scalars().first()
        agent.name = "مریم کارشناس"
        customer = create_customer(last_name="مشتری", emails=["c@example.ir"],
                                   mobiles=["09121112233"], consent_sms=True)
        for subject, score in (("A", 5), ("B", 2)):
            ticket = tickets.create_ticket(customer=customer, subject=subject, owner=agent)
            tickets.change_status(ticket, "closed")
            response = db.session.execute(
                select(SurveyResponse).filter_by(ticket_id=ticket.id)).scalar_one()
            surveys.answer(response, score, "خوب بود" if score == 5 else "")
        db.session.commit()


def test_results_page_groups_by_agent_and_month_and_a_round_starts(app, client, make_user,
                                                                   login):
    from modules.service.models.surveys import NpsSurvey, SurveyResponse

    make_user(seats=["service"], locale="en")
    _setup(app)
    login()
    page = client.get("/service/surveys")
    text = page.data.decode()
    assert "مریم کارشناس" in text and "خوب بود" in text
    assert re.search(r'data-csat-mean>\s*<bdi>3\.50</bdi>', text)
    assert "data-by-month" in text
    form = client.get("/service/surveys/rounds/new")
    assert client.post("/service/surveys/rounds/new", data={
        "csrf_token": csrf_from(form), "name": "", "segment": "", "channel": "sms"}
    ).status_code == 200
    started = client.post("/service/surveys/rounds/new", data={
        "csrf_token": csrf_from(form), "name": "Autumn", "segment": "", "channel": "sms"})
    assert started.status_code == 302
    with app.app_context():
        survey = db.session.execute(select(NpsSurvey)).scalar_one()
        assert (survey.status, survey.sent_count) == ("sent", 1)
        assert len(db.session.execute(select(SurveyResponse).filter_by(
            survey_id=survey.id)).scalars().all()) == 1
    shown = client.get(started.headers["Location"])
    assert b"Autumn" in shown.data and b'data-sent>1' in shown.data


def test_the_customer_page_is_persian_by_default(app, client):
    from core.customers.services import create_customer
    from core.outbox import OutboxMessage
    from modules.service import tickets

    with app.test_request_context():
        customer = create_customer(last_name="مشتری", mobiles=["09121112233"])
        ticket = tickets.create_ticket(customer=customer, subject="خرابی", body="...")
        tickets.change_status(ticket, "closed")
        db.session.commit()
        [sms] = db.session.execute(select(OutboxMessage).filter_by(kind="sms")).scalars()
        link = re.search(r"https?://\S+", sms.payload["text"]).group(0)
    path = "/" + link.split("/", 3)[3]
    page = client.get(path)
    assert page.status_code == 200 and 'dir="rtl"' in page.data.decode()
    assert "۵".encode() in page.data and "خرابی".encode() in page.data


def test_without_a_known_address_no_dead_request_is_stored(app):
    from core.customers.services import create_customer
    from core.outbox import OutboxMessage
    from modules.service import tickets
    from modules.service.models.surveys import SurveyResponse

    with app.app_context():  # e.g. a job closes the ticket; no request, no SERVER_NAME
        customer = create_customer(last_name="مشتری", mobiles=["09121112233"])
        ticket = tickets.create_ticket(customer=customer, subject="خرابی")
        tickets.change_status(ticket, "closed")
        db.session.commit()
        assert db.session.execute(select(SurveyResponse)).first() is None
        assert db.session.execute(select(OutboxMessage).filter_by(kind="sms")).first() is None
