"""Customers in the REST API: /api/v1/customers, scoped like the UI (another's record → 404)."""

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint, abort
from sqlalchemy.orm import lazyload, selectinload

from core.analytics.rfm import SEGMENTS
from core.api.serialise import respond
from core.auth.permissions import require_permission
from core.auth.scope import get_scoped_or_404
from core.customers import services
from core.customers.custom_fields import definitions
from core.customers.models import CONTACT_KINDS, KINDS, Customer
from core.customers.search import SORTS, parse_filters, search
from core.extensions import db
from core.pagination import keyset_page

bp = Blueprint("customers_api", __name__, url_prefix="/api/v1/customers",
               description="People and organisations: the record every module shares.")


class AddressSchema(ma.Schema):
    province = ma.fields.String()
    city = ma.fields.String()
    line = ma.fields.String()
    postal_code = ma.fields.String(allow_none=True)


class ContactSchema(ma.Schema):
    kind = ma.fields.String(validate=ma.validate.OneOf(CONTACT_KINDS))
    value = ma.fields.String()
    primary = ma.fields.Boolean()


class _CustomerFields(ma.Schema):
    """The fields a customer has in and out of the API."""

    display_name = ma.fields.String()
    first_name = ma.fields.String()
    last_name = ma.fields.String()
    legal_name = ma.fields.String()
    national_code = ma.fields.String(allow_none=True)
    national_id = ma.fields.String(allow_none=True)
    economic_code = ma.fields.String(allow_none=True)
    birthday = ma.fields.Date(allow_none=True, metadata={"description": "Gregorian ISO date"})
    anniversary = ma.fields.Date(allow_none=True)
    source = ma.fields.String()
    owner_id = ma.fields.Integer(allow_none=True)
    team_id = ma.fields.Integer(allow_none=True)
    consent_email = ma.fields.Boolean()
    consent_sms = ma.fields.Boolean()


class CustomerIn(_CustomerFields):
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    mobiles = ma.fields.List(ma.fields.String(), metadata={"description": "Any format"})
    phones = ma.fields.List(ma.fields.String())
    emails = ma.fields.List(ma.fields.String())
    tags = ma.fields.List(ma.fields.String())
    custom = ma.fields.Dict(keys=ma.fields.String())
    address = ma.fields.Nested(AddressSchema)


class CustomerChanges(CustomerIn):
    """The fields of a PATCH: any subset of CustomerIn."""


class CustomerOut(_CustomerFields):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    contacts = ma.fields.List(ma.fields.Nested(ContactSchema))
    addresses = ma.fields.List(ma.fields.Nested(AddressSchema))
    tags = ma.fields.Function(lambda c: [t.name for t in c.tags])
    custom = ma.fields.Dict()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class ListArgs(ma.Schema):
    """Search, filters and order; also ``custom.<name>`` per custom field (see ``get``)."""

    q = ma.fields.String(load_default="", metadata={"description": "Name, mobile, email, code"})
    tag = ma.fields.List(ma.fields.String(), metadata={"description": "Tag id or name; "
                                                       "repeat to require several"})
    owner = ma.fields.Integer(metadata={"description": "Owner's user id"})
    kind = ma.fields.String(validate=ma.validate.OneOf(KINDS))
    segment = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(tuple(SEGMENTS))),
                             metadata={"description": "RFM segment key; repeat for any of"})
    sort = ma.fields.String(load_default=None, validate=ma.validate.OneOf(
        [k for name in SORTS for k in (name, "-" + name)]), metadata={
        "description": "name, created, updated or priority; a leading - for descending. "
                       "Without it: newest first"})
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))


class CustomerPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CustomerOut))
    next = ma.fields.String(allow_none=True,
                            metadata={"description": "Pass as 'after' for the next page"})


def _refuse(exc: services.CustomerError):
    db.session.rollback()
    abort(422, message=_("Some fields are invalid; see 'errors'."), errors=exc.errors)


@bp.route("")
class Customers(MethodView):
    @require_permission("customers.view")
    @bp.arguments(ListArgs, location="query")
    @bp.response(200, CustomerPage)
    def get(self, args):
        """Customers the token's user may see; ``q`` searches and filters work like the UI.

        Custom field filters: ``custom.<name>=text`` (text contains; choice; yes/no as
        1/0), ``custom.<name>.min``/``.max`` (numbers), ``custom.<name>.from``/``.to``
        (dates, ISO or Jalali). A filter the deployment does not know is refused with 422.
        """
        wants_custom = any(key.startswith("custom.") for key in request.args)
        filters, errors = parse_filters(request.args, definitions() if wants_custom else [])
        if errors:
            abort(422, message=_("Some filters are invalid; see 'errors'."), errors=errors)
        stmt, _sort, columns = search(args["q"], filters, args["sort"])
        # One query per relationship for the whole page, not per customer; the owner's
        # user row is not needed (only owner_id is returned).
        stmt = stmt.options(selectinload(Customer.contacts), selectinload(Customer.addresses),
                            selectinload(Customer.tags), lazyload(Customer.owner))
        order = columns if args["sort"] else [Customer.id.desc()]
        page = keyset_page(stmt, order, after=args["after"], size=args["size"])
        return respond(CustomerPage, {"items": page.items, "next": page.next_token})

    @require_permission("customers.edit")
    @bp.arguments(CustomerIn)
    @bp.response(201, CustomerOut)
    def post(self, data):
        """Create a person or an organisation (owner: the token's user unless given)."""
        try:
            customer = services.create_customer(by=current_user, **data)
        except services.CustomerError as exc:
            _refuse(exc)
        db.session.commit()
        return customer


@bp.route("/<int:customer_id>")
class CustomerItem(MethodView):
    @require_permission("customers.view")
    @bp.response(200, CustomerOut)
    def get(self, customer_id):
        """One customer (404 when it is outside the user's record scope)."""
        return get_scoped_or_404(Customer, customer_id, "customers")

    @require_permission("customers.edit")
    @bp.arguments(CustomerChanges(partial=True))
    @bp.response(200, CustomerOut)
    def patch(self, data, customer_id):
        """Change some fields of a customer; fields left out stay as they are."""
        customer = get_scoped_or_404(Customer, customer_id, "customers")
        try:
            services.update_customer(customer, **data)
        except services.CustomerError as exc:
            _refuse(exc)
        db.session.commit()
        return customer


class MergeIn(ma.Schema):
    other_id = ma.fields.Integer(required=True, metadata={
        "description": "The customer merged into this one, then deleted"})
    keep = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), load_default=dict,
                          metadata={"description": "Field name (custom fields as "
                                    "'custom.<name>') → id of the customer whose value wins; "
                                    "fields left out keep this customer's value, or the "
                                    "other's where this one has none"})


@bp.route("/<int:customer_id>/merge")
class MergeInto(MethodView):
    @require_permission("customers.merge")
    @bp.arguments(MergeIn)
    @bp.response(200, CustomerOut)
    def post(self, data, customer_id):
        """Merge ``other_id`` into this customer: its contacts, history and every module's
        records move here, in one transaction; both must be in the user's record scope."""
        from core.customers.merge import MergeError, merge_customers

        survivor = get_scoped_or_404(Customer, customer_id, "customers")
        loser = get_scoped_or_404(Customer, data["other_id"], "customers")
        try:
            merge_customers(survivor, loser, data["keep"], by=current_user)
        except MergeError as exc:
            db.session.rollback()
            abort(422, message=str(exc))
        db.session.commit()
        return survivor
