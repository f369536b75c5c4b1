"""Satisfaction pages: the customer's answer link, results by agent/team/category, NPS rounds."""

from collections import defaultdict

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from core.auth.models import Team, User
from core.auth.permissions import public, require_permission
from core.extensions import db
from core.i18n import current_locale, jalali_month_of, jmonth
from core.jobs.progress import JobRecord
from modules.service import surveys
from modules.service.models.surveys import NpsSurvey, SurveyResponse
from modules.service.models.tickets import Category, Ticket
from modules.service.views import bp


class AnswerForm(FlaskForm):
    score = RadioField(_l("Your score"), choices=[], validate_choice=False)
    comment = TextAreaField(_l("Anything to add?"), validators=[Length(max=2000)],
                            render_kw={"rows": 3})


class RoundForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=160)])
    segment = SelectField(_l("Send to"), choices=[], validate_choice=True)
    channel = SelectField(_l("Channel"), choices=[("sms", _l("SMS")), ("email", _l("Email"))])


# --- the customer's link ---------------------------------------------------------------------

@bp.route("/survey/<token>", methods=["GET", "POST"])
@public
def survey_answer(token: str):
    """The customer rates a closed ticket (1–5) or recommends us (0–10); the link works once."""
    response = surveys.by_token(token)
    if response is None:
        abort(404)
    form = AnswerForm()
    form.score.choices = [(str(n), str(n)) for n in surveys.SCALES[response.kind]]
    ticket = db.session.get(Ticket, response.ticket_id) if response.ticket_id else None
    if response.answered_at is not None:
        thanks = request.method == "GET" and request.args.get("thanks") == "1"
        return render_template("service/survey_done.html", response=response, ticket=ticket,
                               already=not thanks, crm_minimal=True), \
            (409 if request.method == "POST" else 200)
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                surveys.answer(response, form.score.data, form.comment.data or "")
            except surveys.SurveyError as exc:
                db.session.rollback()
                db.session.refresh(response)
                if response.answered_at is not None:  # another submit won the race
                    return render_template("service/survey_done.html", response=response,
                                           ticket=ticket, already=True, crm_minimal=True), 409
                error = str(exc)
            else:
                db.session.commit()
                return redirect(url_for("service.survey_answer", token=token, thanks=1))
        else:
            error = _("Choose a score.")
    return render_template("service/survey_answer.html", response=response, ticket=ticket,
                           form=form, error=error, crm_minimal=True), 400 if error else 200


# --- results ---------------------------------------------------------------------------------

def _names(model, ids, name) -> dict:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {row.id: name(row) for row in db.session.execute(
        select(model).where(model.id.in_(ids))).unique().scalars()}


def _group(rows, key) -> list[dict]:
    """Count, mean and % satisfied of CSAT rows grouped by ``key(row)``, biggest first."""
    groups: dict = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row.score)
    result = []
    for value, scores in groups.items():
        mean, satisfied = surveys.csat_summary(scores)
        result.append({"key": value, "count": len(scores), "mean": mean, "satisfied": satisfied})
    return sorted(result, key=lambda r: (-r["count"], str(r["key"])))


def _by_month(rows) -> list[dict]:
    """CSAT and NPS per Jalali month of the answer, newest first."""
    months: dict = defaultdict(lambda: {"csat": [], "nps": []})
    for row in rows:
        months[jalali_month_of(row.answered_at)][row.kind].append(row.score)
    result = []
    for month in sorted(months, reverse=True):
        mean, satisfied = surveys.csat_summary(months[month]["csat"])
        result.append({"month": jmonth(month), "csat_count": len(months[month]["csat"]),
                       "csat_mean": mean, "csat_satisfied": satisfied,
                       "nps_count": len(months[month]["nps"]),
                       "nps": surveys.nps_score(months[month]["nps"])})
    return result


@bp.route("/surveys", endpoint="surveys")
@require_permission("service.view")
def surveys_index():
    """CSAT per agent, team and category; NPS and CSAT by Jalali month; the NPS rounds."""
    rows = list(db.session.execute(
        select(SurveyResponse).where(SurveyResponse.answered_at.is_not(None))
        .order_by(SurveyResponse.answered_at.desc()).limit(50000)).scalars())
    csat = [r for r in rows if r.kind == "csat"]
    nps_scores = [r.score for r in rows if r.kind == "nps"]
    agents = _names(User, {r.agent_id for r in csat}, lambda u: u.name or u.email)
    teams = _names(Team, {r.team_id for r in csat}, lambda t: t.name)
    categories = _names(Category, {r.category_id for r in csat}, lambda c: c.name)
    mean, satisfied = surveys.csat_summary([r.score for r in csat])
    rounds = list(db.session.execute(
        select(NpsSurvey).order_by(NpsSurvey.created_at.desc(), NpsSurvey.id.desc())
        .limit(50)).scalars())
    return render_template(
        "service/surveys.html", csat_count=len(csat), csat_mean=mean, csat_satisfied=satisfied,
        nps=surveys.nps_score(nps_scores), nps_count=len(nps_scores),
        by_agent=_group(csat, lambda r: agents.get(r.agent_id, "")),
        by_team=_group(csat, lambda r: teams.get(r.team_id, "")),
        by_category=_group(csat, lambda r: categories.get(r.category_id, "")),
        by_month=_by_month(rows), rounds=rounds, round_stats=_round_stats(rounds),
        comments=[r for r in rows if r.comment][:10])


def _round_stats(rounds) -> dict:
    stats = {}
    for survey in rounds:
        scores = list(db.session.execute(
            select(SurveyResponse.score).where(SurveyResponse.survey_id == survey.id,
                                               SurveyResponse.answered_at.is_not(None)))
            .scalars())
        stats[survey.id] = {"answers": len(scores), "nps": surveys.nps_score(scores)}
    return stats


def _segment_choices() -> list[tuple[str, str]]:
    from core.analytics.rfm import SEGMENTS

    locale = current_locale()
    return [("", _("Every customer who agreed to messages"))] + [
        (key, segment.name(locale)) for key, segment in SEGMENTS.items()]


@bp.route("/surveys/rounds/new", methods=["GET", "POST"])
@require_permission("service.manage")
def survey_round_new():
    """Start an NPS round: a segment, a channel; sending runs in the background."""
    form = RoundForm()
    form.segment.choices = _segment_choices()
    if form.validate_on_submit():
        try:
            survey = surveys.create_round(name=form.name.data, segment=form.segment.data,
                                          channel=form.channel.data, by=current_user)
            progress = surveys.start_round(survey, link_base=surveys.link_base(),
                                           by=current_user)
        except surveys.SurveyError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("The round is being sent."), "success")
            return redirect(url_for("service.survey_round", survey_id=survey.id,
                                    job=progress.id))
    counts = {key: db.session.execute(select(db.func.count()).select_from(
        surveys.recipients_statement(key, form.channel.data or "sms").subquery())).scalar()
        for key, _label in form.segment.choices}
    return render_template("service/survey_round_form.html", form=form, counts=counts)


@bp.route("/surveys/rounds/<int:survey_id>")
@require_permission("service.view")
def survey_round(survey_id: int):
    """One NPS round: how many were asked, answered, and its score."""
    survey = db.session.get(NpsSurvey, survey_id) or abort(404)
    scores = list(db.session.execute(
        select(SurveyResponse.score).where(SurveyResponse.survey_id == survey.id,
                                           SurveyResponse.answered_at.is_not(None))).scalars())
    job_id = request.args.get("job", type=int)
    job = db.session.get(JobRecord, job_id) if job_id else None
    return render_template("service/survey_round.html", survey=survey, scores=scores,
                           nps=surveys.nps_score(scores), job=job,
                           segment_names=dict(_segment_choices()))
