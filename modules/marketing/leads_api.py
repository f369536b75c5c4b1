"""Leads in the REST API (``/api/v1/marketing/leads``) and the public lead form endpoints."""

from collections.abc import Mapping

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import Select, select

from core.api.idempotency import commit_unless_keyed, idempotent
from core.api.problems import invalid_fields
from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.extensions import db
from core.i18n import normalize, to_latin_digits
from core.pagination import keyset_page
from modules.marketing import leads as services
from modules.marketing.models.leads import SOURCES, STATUSES, Lead

bp = Blueprint("marketing_api", __name__, url_prefix="/api/v1/marketing",
               description="Marketing: leads, their score and conversion to customers.")


def _int(value) -> int | None:
    try:
        return int(to_latin_digits(str(value)))
    except (TypeError, ValueError):
        return None


def read_filters(args: Mapping) -> dict:
    """The lead list filters from a query string (unknown values are dropped)."""
    owner = args.get("owner") or None
    return {"q": (args.get("q") or "").strip(),
            "status": args.get("status") if args.get("status") in STATUSES else None,
            "source": args.get("source") if args.get("source") in SOURCES else None,
            "owner": owner if owner in ("me", "none") else _int(owner),
            "min_score": _int(args.get("min_score")), "max_score": _int(args.get("max_score"))}


def visible_leads(filters: Mapping, user_id: int | None = None) -> Select:
    """Leads the current user may see (record scope), with the list filters applied."""
    stmt = scoped(select(Lead), Lead, "marketing")
    if filters.get("q"):
        key = normalize(filters["q"]).replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_")
        stmt = stmt.where(Lead.search_key.like(f"%{key}%", escape="\\"))
    for name, column in (("status", Lead.status), ("source", Lead.source)):
        if filters.get(name):
            stmt = stmt.where(column == filters[name])
    owner = filters.get("owner")
    if owner == "me":
        stmt = stmt.where(Lead.owner_id == user_id)
    elif owner == "none":
        stmt = stmt.where(Lead.owner_id.is_(None))
    elif owner is not None:
        stmt = stmt.where(Lead.owner_id == owner)
    if filters.get("min_score") is not None:
        stmt = stmt.where(Lead.score >= filters["min_score"])
    if filters.get("max_score") is not None:
        stmt = stmt.where(Lead.score <= filters["max_score"])
    return stmt


class LeadIn(ma.Schema):
    name = ma.fields.String(load_default="")
    email = ma.fields.String(load_default="")
    mobile = ma.fields.String(load_default="", metadata={"description": "Any Iranian form"})
    company = ma.fields.String(load_default="")
    job_title = ma.fields.String(load_default="")
    city = ma.fields.String(load_default="")
    notes = ma.fields.String(load_default="")
    consent_email = ma.fields.Boolean(load_default=False)
    consent_sms = ma.fields.Boolean(load_default=False)
    utm_source = ma.fields.String(load_default="")
    utm_medium = ma.fields.String(load_default="")
    utm_campaign = ma.fields.String(load_default="")
    utm_term = ma.fields.String(load_default="")
    utm_content = ma.fields.String(load_default="")


class LeadChanges(ma.Schema):
    name = ma.fields.String()
    company = ma.fields.String()
    job_title = ma.fields.String()
    city = ma.fields.String()
    notes = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf([s for s in STATUSES
                                                          if s != "converted"]))
    owner_id = ma.fields.Integer(allow_none=True)


class LeadOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String(allow_none=True)
    mobile = ma.fields.String(allow_none=True)
    company = ma.fields.String()
    job_title = ma.fields.String()
    city = ma.fields.String()
    source = ma.fields.String()
    status = ma.fields.String()
    score = ma.fields.Integer()
    utm_source = ma.fields.String()
    utm_medium = ma.fields.String()
    utm_campaign = ma.fields.String()
    utm_term = ma.fields.String()
    utm_content = ma.fields.String()
    consent_email = ma.fields.Boolean()
    consent_sms = ma.fields.Boolean()
    owner_id = ma.fields.Integer(allow_none=True)
    team_id = ma.fields.Integer(allow_none=True)
    customer_id = ma.fields.Integer(allow_none=True)
    deal_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    converted_at = ma.fields.DateTime(allow_none=True)


class LeadArgs(ma.Schema):
    q = ma.fields.String(load_default="", metadata={"description": "Name, mobile, email..."})
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES))
    source = ma.fields.String(load_default=None, validate=ma.validate.OneOf(SOURCES))
    owner = ma.fields.String(load_default=None, metadata={"description": "me, none or an id"})
    min_score = ma.fields.Integer(load_default=None)
    max_score = ma.fields.Integer(load_default=None)
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))


class LeadPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LeadOut))
    next = ma.fields.String(allow_none=True)


class ConvertIn(ma.Schema):
    create_deal = ma.fields.Boolean(load_default=False,
                                    metadata={"description": "Also open a deal (sales)"})


@bp.route("/leads")
class Leads(MethodView):
    @require_permission("marketing.view")
    @bp.arguments(LeadArgs, location="query")
    @bp.response(200, LeadPage)
    def get(self, args):
        """Leads the user may see, highest score first, with the list's filters."""
        stmt = visible_leads(read_filters(args), current_user.id)
        page = keyset_page(stmt, [Lead.score.desc(), Lead.id.desc()], after=args["after"],
                           size=args["size"])
        return {"items": page.items, "next": page.next_token}

    @require_permission("marketing.work")
    @idempotent
    @bp.arguments(LeadIn)
    @bp.response(201, LeadOut)
    def post(self, data):
        """Add a lead (or update the one with the same mobile/email); honours Idempotency-Key."""
        utm = {k: data.pop(k) for k in services.UTM_FIELDS}
        try:
            lead, _created = services.create_or_update_lead(data, "api", utm, by=current_user)
            if lead.owner_id is None and lead.team_id is None:
                lead.owner_id, lead.team_id = current_user.id, current_user.team_id
        except services.LeadError as exc:
            invalid_fields(exc.errors)
        commit_unless_keyed()
        return lead


@bp.route("/leads/<int:lead_id>")
class LeadItem(MethodView):
    @require_permission("marketing.view")
    @bp.response(200, LeadOut)
    def get(self, lead_id):
        """One lead (404 when it is outside the user's record scope)."""
        return get_scoped_or_404(Lead, lead_id, "marketing")

    @require_permission("marketing.work")
    @bp.arguments(LeadChanges)
    @bp.response(200, LeadOut)
    def patch(self, data, lead_id):
        """Change the lead's details, status or owner."""
        from core.auth.models import User

        lead = get_scoped_or_404(Lead, lead_id, "marketing")
        if "owner_id" in data:
            owner = db.session.get(User, data["owner_id"]) if data["owner_id"] else None
            if data["owner_id"] and owner is None:
                invalid_fields({"owner_id": [_("No such user.")]})
            lead.owner_id, lead.team_id = (owner.id, owner.team_id) if owner else (None, None)
        try:
            if "status" in data:
                services.set_status(lead, data.pop("status"), by=current_user)
        except services.LeadError as exc:
            invalid_fields(exc.errors)
        for name in ("name", "company", "job_title", "city", "notes"):
            if name in data:
                setattr(lead, name, data[name].strip())
        lead.search_key = services.search_key(lead)
        services.rescore(lead)
        db.session.commit()
        return lead


@bp.route("/leads/<int:lead_id>/convert")
class LeadConvert(MethodView):
    @require_permission("marketing.work")
    @idempotent
    @bp.arguments(ConvertIn)
    @bp.response(200, LeadOut)
    def post(self, data, lead_id):
        """Make the lead a customer (and, with sales active, open a deal)."""
        lead = get_scoped_or_404(Lead, lead_id, "marketing")
        try:
            services.convert(lead, by=current_user, create_deal=data["create_deal"])
        except services.LeadError as exc:
            invalid_fields(exc.errors)
        commit_unless_keyed()
        return lead


def register(app) -> None:
    """Add the leads API to ``/api/v1`` and the public form pages to the app."""
    from core.extensions import api
    from modules.marketing import form_public

    api.register_blueprint(bp, app=app)
    form_public.register(app)
