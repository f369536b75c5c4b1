"""Sales in the REST API: ``/api/v1/sales/...``, scoped like the UI (another's deal → 404).

One blueprint for the whole module; each topic adds its routes to ``bp`` (products and deals
here; quotes, invoices and payments in their own files).
"""

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from core.api.idempotency import commit_unless_keyed, idempotent
from core.api.problems import invalid_fields
from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers.models import Customer
from core.extensions import db
from core.pagination import keyset_page
from modules.sales import board as queries
from modules.sales import catalog
from modules.sales import pipeline as services
from modules.sales.models.catalog import KINDS, TAX_CATEGORIES, Product
from modules.sales.models.pipeline import STATUSES, Deal

bp = Blueprint("sales_api", __name__, url_prefix="/api/v1/sales",
               description="Sales: products and price lists, deals, quotes, invoices, payments.")


class PageArgs(ma.Schema):
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))


# --- products ------------------------------------------------------------------------------

class ProductIn(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    unit = ma.fields.String()
    category_id = ma.fields.Integer(allow_none=True)
    price = ma.fields.Integer(required=True, strict=True,
                              metadata={"description": "Base price, whole rials"})
    tax_category = ma.fields.String(validate=ma.validate.OneOf(TAX_CATEGORIES))
    stock_quantity = ma.fields.Integer(allow_none=True, strict=True)
    active = ma.fields.Boolean()
    upgrade_to_id = ma.fields.Integer(allow_none=True)
    description = ma.fields.String()


class ProductChanges(ProductIn):
    """The fields of a PATCH: any subset of ProductIn."""


class ProductOut(ProductIn):
    id = ma.fields.Integer()


class ProductArgs(PageArgs):
    q = ma.fields.String(load_default="", metadata={"description": "Code or name"})
    category_id = ma.fields.Integer(load_default=None)
    active = ma.fields.Boolean(load_default=None)


class ProductPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ProductOut))
    next = ma.fields.String(allow_none=True,
                            metadata={"description": "Pass as 'after' for the next page"})


@bp.route("/products")
class Products(MethodView):
    @require_permission("sales.view")
    @bp.arguments(ProductArgs, location="query")
    @bp.response(200, ProductPage)
    def get(self, args):
        """The catalogue by name; ``q`` searches code and name."""
        from core.i18n import normalize

        stmt = select(Product)
        for word in normalize(args["q"]).split():
            stmt = stmt.where(Product.search_key.contains(word, autoescape=True))
        if args["category_id"]:
            stmt = stmt.where(Product.category_id == args["category_id"])
        if args["active"] is not None:
            stmt = stmt.where(Product.active.is_(args["active"]))
        page = keyset_page(stmt, [Product.name, Product.id], after=args["after"],
                           size=args["size"])
        return {"items": page.items, "next": page.next_token}

    @require_permission("sales.manage")
    @bp.arguments(ProductIn)
    @bp.response(201, ProductOut)
    def post(self, data):
        """Add a product or service."""
        try:
            product = catalog.create_product(**data)
        except catalog.CatalogError as exc:
            invalid_fields(exc.errors)
        db.session.commit()
        return product


@bp.route("/products/<int:product_id>")
class ProductItem(MethodView):
    @require_permission("sales.view")
    @bp.response(200, ProductOut)
    def get(self, product_id):
        """One product."""
        return db.session.get(Product, product_id) or abort(404)

    @require_permission("sales.manage")
    @bp.arguments(ProductChanges(partial=True))
    @bp.response(200, ProductOut)
    def patch(self, data, product_id):
        """Change some fields of a product."""
        product = db.session.get(Product, product_id) or abort(404)
        try:
            catalog.update_product(product, **data)
        except catalog.CatalogError as exc:
            invalid_fields(exc.errors)
        db.session.commit()
        return product


# --- deals ---------------------------------------------------------------------------------

class DealIn(ma.Schema):
    title = ma.fields.String(required=True)
    customer_id = ma.fields.Integer(required=True, strict=True)
    pipeline_id = ma.fields.Integer(allow_none=True, metadata={"description": "Default: first"})
    stage_id = ma.fields.Integer(allow_none=True, metadata={"description": "Default: first"})
    value = ma.fields.Integer(strict=True, metadata={"description": "Whole rials"})
    expected_close = ma.fields.Date(allow_none=True, metadata={"description": "Gregorian ISO"})
    owner_id = ma.fields.Integer(allow_none=True)
    team_id = ma.fields.Integer(allow_none=True)
    source = ma.fields.String()
    campaign = ma.fields.String()


class DealChanges(DealIn):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES),
                              metadata={"description": "won / lost (needs lost_reason) / open"})
    lost_reason = ma.fields.String()
    competitor = ma.fields.String()


class DealOut(DealIn):
    id = ma.fields.Integer()
    currency = ma.fields.String()
    status = ma.fields.String()
    lost_reason = ma.fields.String()
    competitor = ma.fields.String()
    closed_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class DealArgs(PageArgs):
    q = ma.fields.String(load_default="", metadata={"description": "Title or customer"})
    pipeline_id = ma.fields.Integer(load_default=None)
    stage_id = ma.fields.Integer(load_default=None)
    owner_id = ma.fields.Integer(load_default=None)
    customer_id = ma.fields.Integer(load_default=None)
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES))


class DealPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DealOut))
    next = ma.fields.String(allow_none=True,
                            metadata={"description": "Pass as 'after' for the next page"})


def _customer_visible_or_422(customer_id: int) -> None:
    """A deal may only be for a customer the user can see (customer record scope)."""
    stmt = scoped(select(Customer.id).where(Customer.id == customer_id), Customer, "customers")
    if db.session.execute(stmt).scalar() is None:
        invalid_fields({"customer_id": _("Choose the customer.")})


def _require_work() -> None:
    from modules.sales.views.pipeline import require_work

    require_work()


@bp.route("/deals")
class Deals(MethodView):
    @require_permission("sales.view")
    @bp.arguments(DealArgs, location="query")
    @bp.response(200, DealPage)
    def get(self, args):
        """Deals the user may see, newest first, with filters."""
        filters = {"q": args["q"], "pipeline": args["pipeline_id"], "stage": args["stage_id"],
                   "owner": args["owner_id"], "customer": args["customer_id"],
                   "status": args["status"]}
        stmt = queries.filtered(queries.visible_deals(), filters)
        page = keyset_page(stmt, [Deal.id.desc()], after=args["after"], size=args["size"])
        return {"items": page.items, "next": page.next_token}

    @require_permission("sales.view")
    @idempotent
    @bp.arguments(DealIn)
    @bp.response(201, DealOut)
    def post(self, data):
        """Open a deal (owner: the token's user unless given); honours Idempotency-Key."""
        _require_work()
        _customer_visible_or_422(data["customer_id"])
        try:
            deal = services.create_deal(by=current_user, **data)
        except services.PipelineError as exc:
            invalid_fields(exc.errors)
        commit_unless_keyed()
        return deal.to_dict()


@bp.route("/deals/<int:deal_id>")
class DealItem(MethodView):
    @require_permission("sales.view")
    @bp.response(200, DealOut)
    def get(self, deal_id):
        """One deal (404 when it is outside the user's record scope)."""
        return get_scoped_or_404(Deal, deal_id, "sales")

    @require_permission("sales.view")
    @bp.arguments(DealChanges(partial=True))
    @bp.response(200, DealOut)
    def patch(self, data, deal_id):
        """Change fields, move to ``stage_id``, or close with ``status`` won/lost or reopen."""
        _require_work()
        deal = get_scoped_or_404(Deal, deal_id, "sales")
        status = data.pop("status", None)
        reason, competitor = data.pop("lost_reason", ""), data.pop("competitor", "")
        if "customer_id" in data:
            _customer_visible_or_422(data["customer_id"])
        try:
            if data:
                services.update_deal(deal, by=current_user, **data)
            if status in ("won", "lost") and status != deal.status:
                services.close_deal(deal, status, lost_reason=reason, competitor=competitor,
                                    by=current_user)
            elif status == "open":
                services.reopen_deal(deal, by=current_user)
        except services.PipelineError as exc:
            invalid_fields(exc.errors)
        db.session.commit()
        return deal


def register(app) -> None:
    """Add the sales API to ``/api/v1`` (its OpenAPI document included)."""
    from core.extensions import api

    api.register_blueprint(bp, app=app)
