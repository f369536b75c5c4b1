"""``/api/v1/purchases``: shops and points of sale record purchases; list a customer's."""

import marshmallow as ma
from flask import abort
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from core.analytics.models import SOURCES, Purchase
from core.analytics.services import PurchaseError, record_purchase
from core.api.idempotency import commit_unless_keyed, idempotent
from core.auth.permissions import require_permission
from core.auth.scope import scoped
from core.customers.models import Customer
from core.extensions import db

bp = Blueprint("purchases_api", __name__, url_prefix="/api/v1/purchases",
               description="Purchases from every source: the input of customer analytics.")
LIMIT = 500


class PurchaseIn(ma.Schema):
    customer_id = ma.fields.Integer(required=True, strict=True,
                                    validate=ma.validate.Range(min=1))
    amount = ma.fields.Integer(required=True, strict=True,
                               metadata={"description": "Whole rials; negative for a refund"})
    occurred_at = ma.fields.AwareDateTime(required=True, default_timezone=None,
                                          metadata={"description": "ISO 8601 with offset"})
    source = ma.fields.String(load_default="api", validate=ma.validate.OneOf(SOURCES))
    reference = ma.fields.String(load_default="", validate=ma.validate.Length(max=120))
    key = ma.fields.String(load_default=None, allow_none=True,
                           validate=ma.validate.Length(max=255),
                           metadata={"description": "Records the same purchase once"})


class PurchaseOut(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    occurred_at = ma.fields.DateTime()
    amount = ma.fields.Integer()
    currency = ma.fields.String()
    source = ma.fields.String()
    reference = ma.fields.String()
    key = ma.fields.String(allow_none=True)


class PurchaseQuery(ma.Schema):
    customer_id = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))


def _visible_or_404(customer_id: int, *, missing_ok: bool = False) -> None:
    """404 when the customer is outside the user's record scope (or missing, unless
    ``missing_ok``: then the service refuses it with 422, naming the customer)."""
    visible = scoped(select(Customer.id).where(Customer.id == customer_id), Customer,
                     "customers")
    if db.session.execute(visible).scalar() is not None:
        return
    exists = db.session.execute(select(Customer.id).where(Customer.id == customer_id)).scalar()
    if exists is not None or not missing_ok:
        abort(404)


@bp.route("")
class Purchases(MethodView):
    @require_permission("customers.edit")
    @idempotent
    @bp.arguments(PurchaseIn)
    @bp.response(201, PurchaseOut)
    def post(self, data):
        """Record a purchase (the same ``key`` records it once)."""
        _visible_or_404(data["customer_id"], missing_ok=True)
        try:
            purchase = record_purchase(data["customer_id"], data["amount"], data["occurred_at"],
                                       data["source"], data["reference"], data["key"])
        except PurchaseError as exc:
            abort(422, str(exc))
        db.session.flush()
        commit_unless_keyed()
        return purchase.to_dict()

    @require_permission("customers.view")
    @bp.arguments(PurchaseQuery, location="query")
    @bp.response(200, PurchaseOut(many=True))
    def get(self, args):
        """A customer's purchases, newest first (at most 500)."""
        _visible_or_404(args["customer_id"])
        stmt = (select(Purchase).where(Purchase.customer_id == args["customer_id"])
                .order_by(Purchase.occurred_at.desc(), Purchase.id.desc()).limit(LIMIT))
        return [p.to_dict() for p in db.session.execute(stmt).scalars()]
