"""Tickets in the REST API: ``/api/v1/service/tickets``, scoped like the UI (another's → 404)."""

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from core.api.idempotency import commit_unless_keyed, idempotent
from core.api.problems import invalid_fields
from core.api.serialise import respond
from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404
from core.customers.models import Customer
from core.customers.search import visible_customer
from core.extensions import db
from core.pagination import keyset_page
from modules.service import ticket_list
from modules.service import tickets as services
from modules.service.models.tickets import (
    CHANNELS,
    PRIORITIES,
    STATUSES,
    TYPES,
    Category,
    Message,
    Ticket,
)

bp = Blueprint("service_api", __name__, url_prefix="/api/v1/service",
               description="After-sales service: tickets, replies and status changes.")


class TicketIn(ma.Schema):
    customer_id = ma.fields.Integer(required=True, strict=True)
    subject = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=250))
    body = ma.fields.String(load_default="", metadata={"description": "The customer's words"})
    type = ma.fields.String(load_default="request", validate=ma.validate.OneOf(TYPES))
    priority = ma.fields.String(load_default="normal", validate=ma.validate.OneOf(PRIORITIES))
    channel = ma.fields.String(load_default="api", validate=ma.validate.OneOf(CHANNELS))
    category_id = ma.fields.Integer(allow_none=True, load_default=None)
    product_name = ma.fields.String(load_default="")
    serial = ma.fields.String(load_default="")


class TicketChanges(ma.Schema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    priority = ma.fields.String(validate=ma.validate.OneOf(PRIORITIES))
    owner_id = ma.fields.Integer(allow_none=True, metadata={"description": "The assignee"})
    team_id = ma.fields.Integer(allow_none=True)


class TicketOut(ma.Schema):
    id = ma.fields.Integer()
    reference = ma.fields.String()
    subject = ma.fields.String()
    type = ma.fields.String()
    priority = ma.fields.String()
    channel = ma.fields.String()
    status = ma.fields.String()
    customer_id = ma.fields.Integer()
    category_id = ma.fields.Integer(allow_none=True)
    product_name = ma.fields.String()
    serial = ma.fields.String()
    owner_id = ma.fields.Integer(allow_none=True)
    team_id = ma.fields.Integer(allow_none=True)
    merged_into_id = ma.fields.Integer(allow_none=True)
    sla_state = ma.fields.String()
    first_response_due = ma.fields.DateTime(allow_none=True)
    resolution_due = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    closed_at = ma.fields.DateTime(allow_none=True)


class TicketArgs(ma.Schema):
    q = ma.fields.String(load_default="", metadata={"description": "Reference, text or serial"})
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(
        (*STATUSES, ticket_list.OPEN_ONES)))
    type = ma.fields.String(load_default=None, validate=ma.validate.OneOf(TYPES))
    priority = ma.fields.String(load_default=None, validate=ma.validate.OneOf(PRIORITIES))
    category_id = ma.fields.Integer(load_default=None)
    assignee = ma.fields.String(load_default=None,
                                metadata={"description": "me, none or a user id"})
    team_id = ma.fields.Integer(load_default=None)
    sla = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ticket_list.SLA_STATES))
    customer_id = ma.fields.Integer(load_default=None)
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))


class TicketPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TicketOut))
    next = ma.fields.String(allow_none=True,
                            metadata={"description": "Pass as 'after' for the next page"})


class ReplyIn(ma.Schema):
    kind = ma.fields.String(load_default="public", validate=ma.validate.OneOf(
        ("public", "internal")), metadata={"description": "public reply or internal note"})
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20000))


class ReplyOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    body = ma.fields.String()
    author_id = ma.fields.Integer(allow_none=True)
    channel = ma.fields.String()
    created_at = ma.fields.DateTime()
    attachments = ma.fields.Function(lambda m: [
        {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
        for a in m.attachments])


def _visible_customer(customer_id: int) -> Customer:
    customer = visible_customer(customer_id)
    if customer is None:
        invalid_fields({"customer_id": [_("Choose the customer.")]})
    return customer


@bp.route("/tickets")
class Tickets(MethodView):
    @require_permission("service.view")
    @bp.arguments(TicketArgs, location="query")
    @bp.response(200, TicketPage)
    def get(self, args):
        """Tickets the user may see, newest first, with the list's filters."""
        filters = {"q": args["q"], "status": args["status"], "type": args["type"],
                   "priority": args["priority"], "category": args["category_id"],
                   "team": args["team_id"], "sla": args["sla"],
                   "customer": args["customer_id"]}
        assignee = args["assignee"]
        if assignee not in (None, "me", "none"):
            if not assignee.isdigit():
                invalid_fields({"assignee": [_("Use me, none or a user id.")]})
            assignee = int(assignee)
        filters["assignee"] = assignee
        stmt = ticket_list.filtered(ticket_list.visible_tickets(), filters, current_user.id)
        page = keyset_page(stmt, [Ticket.created_at.desc(), Ticket.id.desc()],
                           after=args["after"], size=args["size"])
        return respond(TicketPage, {"items": page.items, "next": page.next_token})

    @require_permission("service.work")
    @idempotent
    @bp.arguments(TicketIn)
    @bp.response(201, TicketOut)
    def post(self, data):
        """Open a ticket for a customer the user may see; honours Idempotency-Key."""
        customer = _visible_customer(data.pop("customer_id"))
        category = None
        if data.get("category_id"):
            category = db.session.get(Category, data["category_id"])
            if category is None:
                invalid_fields({"category_id": [_("No such category.")]})
        data.pop("category_id", None)
        try:
            ticket = services.create_ticket(customer=customer, category=category,
                                            by=current_user, **data)
            ticket_list.keep_visible(ticket, current_user)
        except services.TicketError as exc:
            invalid_fields({"subject": [str(exc)]})
        commit_unless_keyed()
        return ticket


@bp.route("/tickets/<int:ticket_id>")
class TicketItem(MethodView):
    @require_permission("service.view")
    @bp.response(200, TicketOut)
    def get(self, ticket_id):
        """One ticket (404 when it is outside the user's record scope)."""
        return get_scoped_or_404(Ticket, ticket_id, "service")

    @require_permission("service.work")
    @bp.arguments(TicketChanges)
    @bp.response(200, TicketOut)
    def patch(self, data, ticket_id):
        """Change the status, priority, assignee (``owner_id``) or team."""
        ticket = get_scoped_or_404(Ticket, ticket_id, "service")
        from core.auth.models import Team, User

        if data.get("owner_id") and db.session.get(User, data["owner_id"]) is None:
            invalid_fields({"owner_id": [_("No such user.")]})
        if data.get("team_id") and db.session.get(Team, data["team_id"]) is None:
            invalid_fields({"team_id": [_("No such team.")]})
        try:
            if "priority" in data:
                services.set_priority(ticket, data["priority"], by=current_user)
            if "owner_id" in data or "team_id" in data:
                services.assign(ticket, user=data.get("owner_id", ticket.owner_id),
                                team=data.get("team_id"), by=current_user,
                                clear_team="team_id" in data and data["team_id"] is None)
            if "status" in data:
                services.change_status(ticket, data["status"], by=current_user)
        except services.TicketError as exc:
            invalid_fields({"status": [str(exc)]})
        db.session.commit()
        return ticket


@bp.route("/tickets/<int:ticket_id>/replies")
class Replies(MethodView):
    @require_permission("service.view")
    @bp.response(200, ReplyOut(many=True))
    def get(self, ticket_id):
        """The conversation: customer messages, public replies and internal notes."""
        ticket = get_scoped_or_404(Ticket, ticket_id, "service")
        return list(db.session.execute(select(Message).where(Message.ticket_id == ticket.id)
                                       .order_by(Message.created_at, Message.id)).scalars())

    @require_permission("service.work")
    @idempotent
    @bp.arguments(ReplyIn)
    @bp.response(201, ReplyOut)
    def post(self, data, ticket_id):
        """A public reply (sent to the customer) or an internal note; honours Idempotency-Key."""
        ticket = get_scoped_or_404(Ticket, ticket_id, "service")
        try:
            message = services.add_message(ticket, data["kind"], data["body"], by=current_user)
        except services.TicketError as exc:
            invalid_fields({"body": [str(exc)]})
        commit_unless_keyed()
        return message


def register(app) -> None:
    """Add the service API to ``/api/v1`` (its OpenAPI document included)."""
    from core.extensions import api

    api.register_blueprint(bp, app=app)
