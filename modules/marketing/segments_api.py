"""Segments in the REST API: ``/api/v1/marketing/segments`` and their members."""

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from core.auth.permissions import require_permission
from core.auth.scope import scoped
from core.customers.models import Customer
from core.extensions import db
from core.i18n import normalize
from core.pagination import keyset_page
from modules.marketing import segments as services
from modules.marketing.models.segments import Segment

bp = Blueprint("marketing_segments_api", __name__, url_prefix="/api/v1/marketing",
               description="Marketing: segments (rules or static lists) and their members.")


class SegmentPageArgs(ma.Schema):
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))


class SegmentRulesIn(ma.Schema):
    name = ma.fields.String(required=True)
    description = ma.fields.String()
    kind = ma.fields.String(validate=ma.validate.OneOf(("dynamic", "static")),
                            metadata={"description": "dynamic (rules) or static (a list)"})
    rules = ma.fields.Dict(metadata={"description": 'e.g. {"match": "all", "rules": [{"field":'
                                                    ' "city", "op": "is", "value": "تهران"}]}'})


class SegmentRulesChanges(SegmentRulesIn):
    """The fields of a PATCH: any subset of SegmentRulesIn."""


class SegmentRulesOut(SegmentRulesIn):
    id = ma.fields.Integer()
    last_count = ma.fields.Integer(allow_none=True)
    counted_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class SegmentListArgs(SegmentPageArgs):
    q = ma.fields.String(load_default="", metadata={"description": "Name contains"})


class SegmentListPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SegmentRulesOut))
    next = ma.fields.String(allow_none=True)


class SegmentMemberArgs(SegmentPageArgs):
    consenting = ma.fields.String(load_default=None, validate=ma.validate.OneOf(("email", "sms")),
                                  metadata={"description": "Only members who accept this channel"})


class SegmentMemberOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    display_name = ma.fields.String()
    mobile = ma.fields.Function(lambda c: (c.values("mobile") or [None])[0])
    email = ma.fields.Function(lambda c: (c.values("email") or [None])[0])


class SegmentMemberPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SegmentMemberOut))
    next = ma.fields.String(allow_none=True)
    count = ma.fields.Integer(metadata={"description": "All members (first page only)"})


def _save(segment: Segment | None, data: dict) -> Segment:
    merged = {"name": segment.name, "description": segment.description, "kind": segment.kind,
              "rules": segment.rules} if segment else {}
    merged.update(data)
    try:
        saved = services.save(segment, by_id=current_user.id, **merged)
    except services.SegmentError as exc:
        db.session.rollback()
        abort(422, message=_("Some fields are invalid; see 'errors'."), errors=exc.errors)
    db.session.commit()
    return saved


@bp.route("/segments")
class Segments(MethodView):
    @require_permission("marketing.view")
    @bp.arguments(SegmentListArgs, location="query")
    @bp.response(200, SegmentListPage)
    def get(self, args):
        """Segments by name; counts are from the last evaluation."""
        stmt = select(Segment)
        term = normalize(args["q"])
        if term:
            stmt = stmt.where(Segment.name.contains(term, autoescape=True))
        page = keyset_page(stmt, [Segment.name, Segment.id], after=args["after"],
                           size=args["size"])
        return {"items": page.items, "next": page.next_token}

    @require_permission("marketing.manage")
    @bp.arguments(SegmentRulesIn)
    @bp.response(201, SegmentRulesOut)
    def post(self, data):
        """Create a segment; rules are validated (422 names the bad rule)."""
        return _save(None, data)


@bp.route("/segments/<int:segment_id>")
class SegmentItem(MethodView):
    @require_permission("marketing.view")
    @bp.response(200, SegmentRulesOut)
    def get(self, segment_id):
        """One segment, counted now."""
        segment = db.session.get(Segment, segment_id) or abort(404)
        services.count(segment)
        db.session.commit()
        return segment

    @require_permission("marketing.manage")
    @bp.arguments(SegmentRulesChanges(partial=True))
    @bp.response(200, SegmentRulesOut)
    def patch(self, data, segment_id):
        """Change a segment's name, description or rules."""
        return _save(db.session.get(Segment, segment_id) or abort(404), data)


@bp.route("/segments/<int:segment_id>/members")
class SegmentMembers(MethodView):
    @require_permission("marketing.view")
    @bp.arguments(SegmentMemberArgs, location="query")
    @bp.response(200, SegmentMemberPage)
    def get(self, args, segment_id):
        """The members you may see, by name, a page at a time."""
        segment = db.session.get(Segment, segment_id) or abort(404)
        stmt = scoped(services.members(segment, consenting=args["consenting"]), Customer,
                      "customers")
        page = keyset_page(stmt, [Customer.display_name, Customer.id], after=args["after"],
                           size=args["size"])
        result = {"items": list(page.items), "next": page.next_token}
        if not args["after"]:
            result["count"] = db.session.execute(
                select(db.func.count()).select_from(stmt.order_by(None).subquery())).scalar()
        return result


def register(app) -> None:
    """Add the segments API to ``/api/v1``."""
    from core.extensions import api

    api.register_blueprint(bp, app=app)
