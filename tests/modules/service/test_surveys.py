"""CSAT after a ticket closes (a link that answers once, only its ticket); NPS rounds."""

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.outbox import OutboxMessage
from tests.conftest import csrf_from


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en", "SERVER_NAME": "crm.example.ir"}


def _customer(**fields):
    from core.customers.services import create_customer

    fields.setdefault("last_name", "مشتری")
    return create_customer(**fields)


def _closed_ticket(customer, subject="Broken screen"):
    from modules.service import tickets

    ticket = tickets.create_ticket(customer=customer, subject=subject, body="It broke")
    tickets.change_status(ticket, "closed")
    return ticket


def _links(kind=None) -> list[str]:
    found = []
    for message in db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars():
        if kind and message.kind != kind:
            continue
        found += re.findall(r"https?://\S+/service/survey/\S+", message.payload.get("text", ""))
    return found


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def _responses(**where):
    from modules.service.models.surveys import SurveyResponse

    return list(db.session.execute(select(SurveyResponse).filter_by(**where)).scalars())


def _submit(client, path, score, comment=""):
    page = client.get(path)
    assert page.status_code == 200, page.data[:300]
    return client.post(path, data={"csrf_token": csrf_from(page), "score": score,
                                   "comment": comment})


def test_closing_a_ticket_sends_a_csat_link_by_email_else_sms_once(app):
    from modules.service import tickets

    with app.app_context():
        by_mail = _customer(emails=["ali@example.ir"], mobiles=["09121234567"])
        by_sms = _customer(mobiles=["09127654321"])
        nowhere = _customer()
        first = _closed_ticket(by_mail)
        _closed_ticket(by_sms)
        _closed_ticket(nowhere)
        db.session.commit()
        assert len(_links("email")) == 1 and len(_links("sms")) == 1
        assert {r.channel for r in _responses(kind="csat")} == {"email", "sms"}
        stored = _responses(ticket_id=first.id)[0]
        token = _links("email")[0].rsplit("/", 1)[1]
        assert token not in stored.token_hash and len(stored.token_hash) == 64
        tickets.change_status(first, "open")
        tickets.change_status(first, "closed")  # closed again: no second request
        db.session.commit()
        assert len(_responses(ticket_id=first.id)) == 1 and len(_links()) == 2


def test_csat_link_answers_once_and_only_its_own_ticket(app, client):
    from modules.service.models.surveys import SurveyResponse

    with app.app_context():
        customer = _customer(emails=["sara@example.ir"])
        ticket_a = _closed_ticket(customer, "First")
        ticket_b = _closed_ticket(customer, "Second")
        db.session.commit()
        link_a, link_b = _links("email")
        ids = (ticket_a.id, ticket_b.id)
    page = client.get(_path(link_a))
    assert b"First" in page.data and b"Second" not in page.data
    assert _submit(client, _path(link_a), "9").status_code == 400  # off the 1-5 scale
    answered = _submit(client, _path(link_a), "4", "Quick and kind")
    assert answered.status_code == 302
    assert b"was recorded" in client.get(answered.headers["Location"]).data
    with app.app_context():
        a = db.session.execute(select(SurveyResponse).filter_by(ticket_id=ids[0])).scalar_one()
        b = db.session.execute(select(SurveyResponse).filter_by(ticket_id=ids[1])).scalar_one()
        assert (a.score, a.comment, b.score, b.answered_at) == (4, "Quick and kind", None, None)
    again = client.get(_path(link_a))
    assert b"already answered" in again.data and b"data-survey-form" not in again.data
    refused = client.post(_path(link_a), data={"csrf_token": csrf_from(page), "score": "1"})
    assert refused.status_code == 409 and b"already answered" in refused.data
    assert _submit(client, _path(link_b), "2").status_code == 302
    with app.app_context():
        scores = {r.ticket_id: r.score for r in _responses(kind="csat")}
        assert scores == {ids[0]: 4, ids[1]: 2}
    assert client.get("/service/survey/" + link_a.rsplit("/", 1)[1][:-2] + "xx").status_code \
        == 404
    assert client.get("/service/survey/not-a-token").status_code == 404


def test_answer_is_claimed_once_even_from_a_stale_object(app):
    from modules.service import surveys

    with app.app_context():
        customer = _customer(emails=["reza@example.ir"])
        ticket = _closed_ticket(customer)
        db.session.commit()
        response = _responses(ticket_id=ticket.id)[0]
        surveys.answer(response, 5)
        db.session.commit()
        db.session.refresh(response)
        db.session.expunge(response)
        response.answered_at = None  # a stale copy that believes it is unanswered
        with pytest.raises(surveys.SurveyError):
            surveys.answer(response, 1)
        db.session.rollback()
        assert _responses(ticket_id=ticket.id)[0].score == 5


def test_nps_score_math():
    from modules.service.surveys import csat_summary, nps_score

    assert nps_score([]) is None
    assert nps_score([10, 9, 8, 7, 6, 0]) == 0  # 2 promoters, 2 detractors of 6
    assert nps_score([10, 10, 10, 3]) == 50
    assert nps_score([0, 6, 7]) == -67
    assert csat_summary([5, 4, 1, 2]) == (3.0, 50)


def test_nps_round_goes_only_to_consenting_members_of_the_segment(app):
    from core.analytics.models import CustomerScore
    from modules.service import surveys
    from modules.service.models.surveys import NpsSurvey

    def scored(customer, segment):
        db.session.add(CustomerScore(customer_id=customer.id, recency_days=1, frequency=1,
                                     monetary=1, r_score=5, f_score=5, m_score=5,
                                     segment=segment))

    with app.app_context():  # outside a request the (inline) job runs at once
        yes = _customer(mobiles=["09120000001"], consent_sms=True)
        no_consent = _customer(mobiles=["09120000002"], consent_sms=False)
        other_segment = _customer(mobiles=["09120000003"], consent_sms=True)
        no_mobile = _customer(emails=["x@example.ir"], consent_sms=True)
        for customer in (yes, no_consent, no_mobile):
            scored(customer, "champions")
        scored(other_segment, "lost")
        db.session.commit()
        survey = surveys.create_round(name="Spring", segment="champions", channel="sms")
        progress = surveys.start_round(survey, link_base=surveys.link_base())
        db.session.commit()
        survey = db.session.get(NpsSurvey, survey.id)
        assert (survey.status, survey.sent_count) == ("sent", 1)
        assert [r.customer_id for r in _responses(survey_id=survey.id)] == [yes.id]
        assert progress.record.status == "done" and progress.record.done == 1
        everyone = surveys.create_round(name="All", segment="", channel="sms")
        surveys.start_round(everyone, link_base=surveys.link_base())
        assert {r.customer_id for r in _responses(survey_id=everyone.id)} == {
            yes.id, other_segment.id}
        with pytest.raises(surveys.SurveyError):
            surveys.start_round(everyone, link_base=surveys.link_base())  # sent once
        with pytest.raises(surveys.SurveyError):
            surveys.create_round(name="X", segment="nonsense")
        link = _links("sms")[0]
        response = surveys.by_token(link.rsplit("/", 1)[1])
        assert response.kind == "nps" and response.ticket_id is None
        surveys.answer(response, 10)
        with pytest.raises(surveys.SurveyError):
            surveys.answer(surveys.by_token(_links("sms")[1].rsplit("/", 1)[1]), 11)


def test_merge_moves_answers_and_erasure_drops_the_comment_but_keeps_the_score(app):
    from modules.service import surveys

    with app.app_context():
        loser, survivor = _customer(emails=["a@example.ir"]), _customer()
        ticket = _closed_ticket(loser)
        db.session.commit()
        surveys.answer(_responses(ticket_id=ticket.id)[0], 3, "نام من علی است")
        surveys.move_responses(survivor.id, loser.id)
        surveys.forget_comments(survivor.id)
        db.session.commit()
        db.session.expire_all()
        [response] = _responses(ticket_id=ticket.id)
        assert (response.customer_id, response.score, response.comment) == (survivor.id, 3, "")
