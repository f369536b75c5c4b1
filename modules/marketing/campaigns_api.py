"""Campaigns in the REST API: ``/api/v1/marketing/campaigns`` (list, read, write, send, stats)."""

from datetime import UTC

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from core.api.problems import invalid_fields
from core.auth.permissions import require_permission
from core.extensions import db
from core.pagination import keyset_page
from modules.marketing.models.campaigns import CHANNELS, STATUSES, Campaign

bp = Blueprint("marketing_campaigns_api", __name__, url_prefix="/api/v1/marketing",
               description="Marketing: email and SMS campaigns to a segment.")
ACTIONS = ("start", "pause", "resume", "cancel")


class Clock(ma.fields.Field):
    """Minutes after midnight, written and read as ``"HH:MM"`` (Tehran time)."""

    def _serialize(self, value, attr, obj, **kwargs):
        from modules.marketing.views.campaign_forms import clock

        return clock(value) or None

    def _deserialize(self, value, attr, data, **kwargs):
        from modules.marketing.views.campaign_forms import minutes_of

        try:
            return minutes_of(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from exc


class CampaignIn(ma.Schema):
    name = ma.fields.String(required=True)
    channel = ma.fields.String(validate=ma.validate.OneOf(CHANNELS))
    segment_id = ma.fields.Integer(allow_none=True)
    subject = ma.fields.String()
    body_text = ma.fields.String(metadata={"description": "Email text part, or the SMS"})
    body_html = ma.fields.String()
    ab_test = ma.fields.Boolean()
    subject_b = ma.fields.String()
    body_text_b = ma.fields.String()
    ab_percent = ma.fields.Integer(strict=True)
    ab_metric = ma.fields.String(validate=ma.validate.OneOf(("open", "click")))
    ab_wait_hours = ma.fields.Integer(strict=True)
    cost = ma.fields.Integer(strict=True, metadata={"description": "Whole rials"})
    attribution_days = ma.fields.Integer(strict=True)
    throttle_per_minute = ma.fields.Integer(allow_none=True, strict=True)
    quiet_start = Clock(allow_none=True, metadata={"description": "HH:MM, Tehran time"})
    quiet_end = Clock(allow_none=True, metadata={"description": "HH:MM, Tehran time"})


class CampaignChanges(CampaignIn):
    """The fields of a PATCH: any subset of CampaignIn."""


class CampaignOut(CampaignIn):
    id = ma.fields.Integer()
    status = ma.fields.String()
    ab_winner = ma.fields.String()
    scheduled_at = ma.fields.DateTime(allow_none=True)
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    total = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class CampaignArgs(ma.Schema):
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))
    q = ma.fields.String(load_default="", metadata={"description": "Words of the name"})
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES))
    channel = ma.fields.String(load_default=None, validate=ma.validate.OneOf(CHANNELS))


class CampaignPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CampaignOut))
    next = ma.fields.String(allow_none=True,
                            metadata={"description": "Pass as 'after' for the next page"})


class TestSent(ma.Schema):
    sent = ma.fields.Boolean()


class CampaignStats(ma.Schema):
    progress = ma.fields.Dict()
    stats = ma.fields.Dict()


class TestIn(ma.Schema):
    to = ma.fields.String(required=True, metadata={"description": "Email address or mobile"})


class ScheduleIn(ma.Schema):
    at = ma.fields.AwareDateTime(required=True, metadata={
        "description": "When to start: ISO 8601 with its offset, e.g. 2026-12-01T09:30:00+03:30"})


def _save(campaign: Campaign | None, data: dict) -> Campaign:
    from modules.marketing.views.campaign_forms import CampaignError, save_campaign

    try:
        campaign = save_campaign(campaign, data, by=current_user)
    except CampaignError as exc:
        invalid_fields(exc.errors)
    db.session.commit()
    return campaign


def _engine():
    from modules.marketing import engine

    return engine


@bp.route("/campaigns")
class Campaigns(MethodView):
    @require_permission("marketing.view")
    @bp.arguments(CampaignArgs, location="query")
    @bp.response(200, CampaignPage)
    def get(self, args):
        """Campaigns, newest first; filter by status, channel and words of the name."""
        stmt = select(Campaign)
        for word in args["q"].split():
            stmt = stmt.where(Campaign.name.contains(word, autoescape=True))
        if args["status"]:
            stmt = stmt.where(Campaign.status == args["status"])
        if args["channel"]:
            stmt = stmt.where(Campaign.channel == args["channel"])
        page = keyset_page(stmt, [Campaign.id.desc()], after=args["after"], size=args["size"])
        return {"items": page.items, "next": page.next_token}

    @require_permission("marketing.manage")
    @bp.arguments(CampaignIn)
    @bp.response(201, CampaignOut)
    def post(self, data):
        """Write a campaign (a draft until it is started or scheduled)."""
        return _save(None, data)


@bp.route("/campaigns/<int:campaign_id>")
class CampaignItem(MethodView):
    @require_permission("marketing.view")
    @bp.response(200, CampaignOut)
    def get(self, campaign_id):
        """One campaign."""
        return db.session.get(Campaign, campaign_id) or abort(404)

    @require_permission("marketing.manage")
    @bp.arguments(CampaignChanges(partial=True))
    @bp.response(200, CampaignOut)
    def patch(self, data, campaign_id):
        """Change some fields of a campaign that has not started sending."""
        return _save(db.session.get(Campaign, campaign_id) or abort(404), data)


@bp.route("/campaigns/<int:campaign_id>/<string:action>", methods=["POST"])
@require_permission("marketing.manage")
@bp.response(200, CampaignOut)
def campaign_action(campaign_id, action):
    """``start`` now, ``pause``, ``resume`` or ``cancel`` the sending."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    if action not in ACTIONS:
        abort(404)
    engine = _engine()
    try:
        if action == "start":
            engine.start(campaign, by=current_user)
        else:
            getattr(engine, action)(campaign)
    except engine.EngineError as exc:
        db.session.rollback()
        abort(409, message=str(exc))
    db.session.commit()
    return campaign


@bp.route("/campaigns/<int:campaign_id>/schedule", methods=["POST"])
@require_permission("marketing.manage")
@bp.arguments(ScheduleIn)
@bp.response(200, CampaignOut)
def campaign_schedule(data, campaign_id):
    """Start the sending at ``at`` (a draft or scheduled campaign)."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    engine = _engine()
    try:
        engine.schedule(campaign, data["at"].astimezone(UTC))
    except engine.EngineError as exc:
        db.session.rollback()
        abort(409, message=str(exc))
    db.session.commit()
    return campaign


@bp.route("/campaigns/<int:campaign_id>/test", methods=["POST"])
@require_permission("marketing.manage")
@bp.arguments(TestIn)
@bp.response(200, TestSent)
def campaign_test(data, campaign_id):
    """Send the campaign once to ``to`` (not counted in its results)."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    engine = _engine()
    try:
        sent = engine.test_send(campaign, data["to"].strip(), by=current_user)
    except ValueError as exc:
        db.session.rollback()
        abort(422, message=str(exc), errors={"to": str(exc)})
    db.session.commit()
    return {"sent": bool(sent)}


@bp.route("/campaigns/<int:campaign_id>/stats")
@require_permission("marketing.view")
@bp.response(200, CampaignStats)
def campaign_stats(campaign_id):
    """Progress (total, sent, failed, suppressed, pending, percent) and results."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    engine = _engine()
    return {"progress": engine.progress(campaign), "stats": engine.stats(campaign)}


def register(app) -> None:
    """Add the campaigns API to ``/api/v1`` (its OpenAPI document included)."""
    from core.extensions import api

    api.register_blueprint(bp, app=app)
