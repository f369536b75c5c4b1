"""Satisfaction: a CSAT request when a ticket closes, NPS rounds sent to a segment.

Each request is a ``SurveyResponse`` with a random link token (only its SHA-256 stored) that
answers once: ``answer()`` claims the row with a conditional UPDATE (racing submits: one wins).

    on close  → csat_on_close: SurveyResponse(kind="csat") + email (or SMS) with the link
    NPS round → create_round(...); start_round(round, link_base=...) → send_round job
"""

import hashlib
import logging
import secrets
from datetime import datetime

from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from werkzeug.routing import BuildError

from core import messaging
from core.database import get_setting, utcnow
from core.events import module_listener, ticket_closed
from core.extensions import db
from core.jobs import enqueue, job
from core.jobs.progress import JobProgress
from modules.service.models.surveys import NpsSurvey, SurveyResponse

log = logging.getLogger(__name__)
SCALES = {"csat": range(1, 6), "nps": range(0, 11)}
CHANNEL_LABELS = {"sms": _l("SMS"), "email": _l("Email")}
TOKEN_PLACEHOLDER = "__token__"  # nosec B105  # a placeholder
BATCH = 200


class SurveyError(ValueError):
    """A survey answer or round that is refused; the message is shown to the user."""


def token_hash(token: str) -> str:
    """The SHA-256 (hex) stored for a link token."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def by_token(token: str) -> SurveyResponse | None:
    """The request a link token opens, or None (unknown or changed token)."""
    if not token or len(token) > 100:
        return None
    return db.session.execute(
        select(SurveyResponse).where(SurveyResponse.token_hash == token_hash(token))).scalar()


def survey_link(token: str, link_base: str | None = None) -> str | None:
    """The absolute answer page of ``token``; None when the deployment's address is unknown."""
    if link_base:
        return link_base.replace(TOKEN_PLACEHOLDER, token)
    try:
        return url_for("service.survey_answer", token=token, _external=True)
    except (RuntimeError, BuildError):
        return None


def link_base() -> str:
    """The answer page's URL with a placeholder token (built in a request, used by jobs)."""
    return url_for("service.survey_answer", token=TOKEN_PLACEHOLDER, _external=True)


def _language() -> str:
    return get_setting("display.language") or current_app.config["BABEL_DEFAULT_LOCALE"]


def _customer(customer_id: int):
    from core.customers.models import Customer

    return db.session.get(Customer, customer_id)


def _send(response: SurveyResponse, customer, *, channel: str, link: str, subject: str,
          text: str) -> bool:
    """Send the request with its link by ``channel``; False when there is no address."""
    key = f"customer:{customer.id}"
    body = f"{text}\n{link}"
    if channel == "email" and customer.email:
        messaging.send_email(customer.email, subject, text=body, customer_key=key,
                             key=f"service.survey:{response.id}")
    elif channel == "sms" and customer.mobile:
        messaging.send_sms(customer.mobile, body, customer_key=key,
                           key=f"service.survey:{response.id}")
    else:
        return False
    response.channel = channel
    return True


def _new_response(kind: str, customer_id: int, token: str, **values) -> SurveyResponse:
    response = SurveyResponse(kind=kind, token_hash=token_hash(token), customer_id=customer_id,
                              sent_at=utcnow(), **values)
    db.session.add(response)
    db.session.flush()
    return response


# --- CSAT ------------------------------------------------------------------------------------

def request_csat(ticket, *, link_base: str | None = None) -> SurveyResponse | None:
    """Ask the ticket's customer for a 1–5 rating (email if they have one, else SMS); once."""
    if ticket.merged_into_id is not None:
        return None
    if db.session.execute(select(exists().where(SurveyResponse.ticket_id == ticket.id))).scalar():
        return None  # reopened and closed again: the first request stands
    customer = _customer(ticket.customer_id)
    if customer is None or customer.anonymised_at is not None:
        return None
    channel = "email" if customer.email else "sms" if customer.mobile else ""
    token = secrets.token_urlsafe(24)
    link = survey_link(token, link_base)
    if not channel or link is None:
        if link is None:
            log.warning("no CSAT request for %s: no external URL (set SERVER_NAME)",
                        ticket.reference)
        return None
    response = _new_response(
        "csat", customer.id, token, ticket_id=ticket.id, agent_id=ticket.owner_id,
        team_id=ticket.team_id, category_id=ticket.category_id, channel=channel)
    with force_locale(_language()):
        subject = _("How did we do? Ticket %(ref)s", ref=ticket.reference)
        text = _("Your ticket %(ref)s (%(subject)s) is closed. Please rate our help from 1 to 5:",
                 ref=ticket.reference, subject=ticket.subject)
        _send(response, customer, channel=channel, link=link, subject=subject, text=text)
    return response


@module_listener("service")
def csat_on_close(sender, ticket=None, **kwargs) -> None:
    """``ticket_closed`` listener: send the CSAT request in the closing transaction."""
    if ticket is not None:
        request_csat(ticket)


# --- answers ---------------------------------------------------------------------------------

def answer(response: SurveyResponse, score, comment: str = "",
           at: datetime | None = None) -> None:
    """Record the score (1–5 CSAT, 0–10 NPS) once; a second answer raises SurveyError."""
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = -1
    if score not in SCALES[response.kind]:
        scale = SCALES[response.kind]
        raise SurveyError(_("Choose a score from %(low)s to %(high)s.", low=scale[0],
                            high=scale[-1]))
    at = at or utcnow()
    claimed = db.session.execute(
        update(SurveyResponse)
        .where(SurveyResponse.id == response.id, SurveyResponse.answered_at.is_(None))
        .values(score=score, comment=(comment or "").strip()[:2000], answered_at=at)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise SurveyError(_("This survey was already answered. Thank you!"))
    db.session.refresh(response)


def nps_score(scores) -> int | None:
    """Net promoter score: % promoters (9–10) minus % detractors (0–6), rounded; None if none."""
    scores = [s for s in scores if s is not None]
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def csat_summary(scores) -> tuple[float | None, int | None]:
    """(mean score, % satisfied = 4 or 5) of CSAT answers; Nones if none."""
    scores = [s for s in scores if s is not None]
    if not scores:
        return None, None
    return sum(scores) / len(scores), round(100 * sum(1 for s in scores if s >= 4) / len(scores))


# --- NPS rounds ------------------------------------------------------------------------------

def recipients_statement(segment: str, channel: str, not_in_survey: int | None = None):
    """Ids of the customers an NPS round reaches: consent on the channel, an address, the
    segment (RFM key; "" for all), not anonymised (nor already asked in ``not_in_survey``)."""
    from core.analytics.models import CustomerScore
    from core.customers.models import ContactPoint, Customer

    kind = "email" if channel == "email" else "mobile"
    consent = Customer.consent_email if channel == "email" else Customer.consent_sms
    stmt = (select(Customer.id)
            .where(consent.is_(True), Customer.anonymised_at.is_(None),
                   exists().where(ContactPoint.customer_id == Customer.id,
                                  ContactPoint.kind == kind)))
    if segment:
        stmt = stmt.where(exists().where(CustomerScore.customer_id == Customer.id,
                                         CustomerScore.segment == segment))
    if not_in_survey is not None:
        stmt = stmt.where(~exists().where(SurveyResponse.survey_id == not_in_survey,
                                          SurveyResponse.customer_id == Customer.id))
    return stmt.order_by(Customer.id)


def create_round(*, name: str, segment: str = "", channel: str = "sms", by=None) -> NpsSurvey:
    """A draft NPS round for a segment ("" = every consenting customer)."""
    from core.analytics.rfm import SEGMENTS

    name = (name or "").strip()
    if not name:
        raise SurveyError(_("Give the round a name."))
    if segment and segment not in SEGMENTS:
        raise SurveyError(_("Unknown segment."))
    if channel not in CHANNEL_LABELS:
        raise SurveyError(_("Choose SMS or email."))
    survey = NpsSurvey(name=name[:160], segment=segment, channel=channel, status="draft",
                       created_by_id=getattr(by, "id", by))
    db.session.add(survey)
    db.session.flush()
    return survey


def start_round(survey: NpsSurvey, *, link_base: str, by=None) -> JobProgress:
    """Mark the round sending and queue ``send_round``; the caller commits."""
    if survey.status != "draft":
        raise SurveyError(_("This round was already sent."))
    total = db.session.execute(
        select(db.func.count()).select_from(
            recipients_statement(survey.segment, survey.channel).subquery())).scalar()
    survey.status = "sending"
    progress = JobProgress.create("service.nps", total=total, created_by=getattr(by, "id", by))
    enqueue(send_round, survey.id, link_base, job_id=progress.id)
    return progress


@job(module="service")
def send_round(survey_id: int, link_base: str, job_id: int | None = None) -> int:
    """Send the round's link to every recipient not asked yet (resumable); commits batches."""
    survey = db.session.get(NpsSurvey, survey_id)
    progress = JobProgress.get(job_id) if job_id else None
    if progress:
        progress.start()
    try:
        _send_batches(survey, link_base, progress)
    except Exception as exc:
        log.exception("NPS round %s failed", survey_id)
        if progress:
            progress.fail(str(exc))
        raise
    survey.status, survey.sent_at = "sent", utcnow()
    if progress:
        progress.finish(result={"sent": survey.sent_count})
    db.session.commit()
    return survey.sent_count


def _send_batches(survey: NpsSurvey, link_base: str, progress: JobProgress | None) -> None:
    ids = list(db.session.execute(
        recipients_statement(survey.segment, survey.channel, not_in_survey=survey.id)).scalars())
    with force_locale(_language()):
        text = _("How likely are you to recommend us to a friend? Answer from 0 to 10:")
        subject = _("A short question from us")
        for start in range(0, len(ids), BATCH):
            batch = ids[start:start + BATCH]
            for customer_id in batch:
                token = secrets.token_urlsafe(24)
                response = _new_response("nps", customer_id, token, survey_id=survey.id,
                                         channel=survey.channel)
                if _send(response, _customer(customer_id), channel=survey.channel,
                         link=survey_link(token, link_base), subject=subject, text=text):
                    survey.sent_count = (survey.sent_count or 0) + 1
            if progress:
                progress.advance(len(batch))
            else:
                db.session.commit()


def move_responses(survivor_id: int, loser_id: int) -> None:
    """Merge handler: the merged-away customer's survey answers count for the survivor."""
    db.session.execute(update(SurveyResponse).where(SurveyResponse.customer_id == loser_id)
                       .values(customer_id=survivor_id)
                       .execution_options(synchronize_session=False))


def forget_comments(customer_id: int) -> None:
    """Anonymise handler: the scores stay (statistics), the customer's own words go."""
    db.session.execute(update(SurveyResponse).where(SurveyResponse.customer_id == customer_id)
                       .values(comment="").execution_options(synchronize_session=False))


def register(app) -> None:
    """Send a CSAT request whenever a ticket closes; follow customer merges and erasure."""
    from core.customers.anonymise import add_anonymise_handler
    from core.customers.merge import add_merge_handler

    ticket_closed.connect(csat_on_close, weak=False)
    add_merge_handler(app, move_responses)
    add_anonymise_handler(app, forget_comments)
