"""The customer club in the REST API: ``/api/v1/loyalty/{members,transactions,rewards}``.

Shops and POS without the sales module earn and spend points through ``POST
/api/v1/loyalty/transactions``. Every POST honours ``Idempotency-Key``; not enough points is
409 with the numbers, a bad field 422; members follow the club's record scope (another's →
404). While the module is inactive every address here is 404 (core).
"""

import marshmallow as ma
from flask.views import MethodView
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from core.api import problem
from core.api.idempotency import commit_unless_keyed, idempotent
from core.api.problems import invalid_fields
from core.api.serialise import respond
from core.auth.permissions import has_permission, require_permission
from core.auth.scope import get_scoped_or_404, scoped
from core.customers.models import ContactPoint, Customer
from core.customers.search import visible_customer
from core.extensions import db
from core.i18n import to_latin_digits
from core.pagination import keyset_page
from core.validators import canonical_mobile
from modules.loyalty import ledger
from modules.loyalty import members as club
from modules.loyalty.models.ledger import ENTRY_KINDS, Entry
from modules.loyalty.models.members import MEMBER_STATUSES, Member
from modules.loyalty.models.rewards import Reward

bp = Blueprint("loyalty_api", __name__, url_prefix="/api/v1/loyalty",
               description="Customer club: members, points transactions and rewards.")

EXPIRING_DAYS = 30
TYPES = ("earn", "redeem", "adjust")


# --- schemas -------------------------------------------------------------------------------

class ClubMemberRef(ma.Schema):
    member_id = ma.fields.Integer(load_default=None, strict=True)
    card_number = ma.fields.String(load_default=None)
    mobile = ma.fields.String(load_default=None, metadata={"description": "Any Iranian form"})


class ClubMemberQuery(ClubMemberRef):
    member_id = ma.fields.Integer(load_default=None)


class ClubMemberIn(ma.Schema):
    customer_id = ma.fields.Integer(load_default=None, strict=True)
    mobile = ma.fields.String(load_default=None,
                              metadata={"description": "Finds the customer by mobile"})
    first_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    last_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=100),
                                 metadata={"description": "With a mobile nobody has: creates"
                                                          " the customer"})


class ClubTierOut(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.Function(lambda t: _name(t))


class ClubMemberOut(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    name = ma.fields.Function(lambda m: m.customer.display_name)
    card_number = ma.fields.String()
    referral_code = ma.fields.String()
    status = ma.fields.String()
    enrolled_via = ma.fields.String()
    enrolled_at = ma.fields.DateTime()
    tier = ma.fields.Nested(ClubTierOut, allow_none=True)
    balance = ma.fields.Integer()
    pending = ma.fields.Integer()
    lifetime_earned = ma.fields.Integer()
    lifetime_redeemed = ma.fields.Integer()
    last_activity_on = ma.fields.Date(allow_none=True)


class ClubExpiringOut(ma.Schema):
    points = ma.fields.Integer(attribute="remaining")
    expires_on = ma.fields.Date()


class ClubMemberDetail(ClubMemberOut):
    expiring_soon = ma.fields.Function(
        lambda m: ClubExpiringOut(many=True).dump(ledger.expiring(m.id, EXPIRING_DAYS)),
        metadata={"description": f"Lots expiring within {EXPIRING_DAYS} days, soonest first"})
    expiring_points = ma.fields.Function(
        lambda m: sum(lot.remaining for lot in ledger.expiring(m.id, EXPIRING_DAYS)))


class ClubMemberArgs(ma.Schema):
    q = ma.fields.String(load_default="", metadata={"description": "Card number or name"})
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(MEMBER_STATUSES))
    tier_id = ma.fields.Integer(load_default=None)
    customer_id = ma.fields.Integer(load_default=None)
    min_balance = ma.fields.Integer(load_default=None)
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=25, validate=ma.validate.Range(min=1, max=200))


class ClubMemberPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ClubMemberOut))
    next = ma.fields.String(allow_none=True,
                            metadata={"description": "Pass as 'after' for the next page"})


class ClubEntryOut(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    kind = ma.fields.String()
    bucket = ma.fields.String()
    points = ma.fields.Integer()
    reason = ma.fields.String()
    reference = ma.fields.String()
    amount = ma.fields.Integer()
    balance_after = ma.fields.Integer()
    pending_after = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class ClubEntryArgs(ClubMemberQuery):
    kind = ma.fields.String(load_default=None, validate=ma.validate.OneOf(ENTRY_KINDS))
    after = ma.fields.String(load_default=None, metadata={"description": "next cursor"})
    size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=500))


class ClubEntryPage(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ClubEntryOut))
    next = ma.fields.String(allow_none=True)


class ClubTransactionIn(ClubMemberRef):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(TYPES))
    amount = ma.fields.Integer(load_default=None, strict=True, metadata={
        "description": "Rials spent (earn): the earning rules turn it into points"})
    points = ma.fields.Integer(load_default=None, strict=True,
                               metadata={"description": "Points to redeem, or ± to adjust"})
    reference = ma.fields.String(load_default="", validate=ma.validate.Length(max=100),
                                 metadata={"description": "Receipt number (required to earn)"})
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))


class ClubTransactionOut(ma.Schema):
    type = ma.fields.String()
    member_id = ma.fields.Integer()
    points = ma.fields.Integer(metadata={"description": "Signed change of points"})
    balance = ma.fields.Integer()
    pending = ma.fields.Integer()
    entries = ma.fields.List(ma.fields.Nested(ClubEntryOut))


class ClubRewardOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    name = ma.fields.Function(lambda r: _name(r))
    description = ma.fields.String()
    cost_points = ma.fields.Integer()
    stock = ma.fields.Integer(allow_none=True)
    min_tier_id = ma.fields.Integer(allow_none=True)
    percent_bp = ma.fields.Integer()
    amount = ma.fields.Integer()
    max_discount = ma.fields.Integer(allow_none=True)
    min_purchase = ma.fields.Integer()
    valid_days = ma.fields.Integer()


class ClubRewardArgs(ClubMemberQuery):
    pass


class ClubRedemptionOut(ma.Schema):
    id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    reward_id = ma.fields.Integer()
    points = ma.fields.Integer()
    channel = ma.fields.String()
    status = ma.fields.String()
    coupon_code = ma.fields.Function(lambda r: r.coupon.code if getattr(r, "coupon", None)
                                     else None)
    balance = ma.fields.Function(lambda r: db.session.get(Member, r.member_id).balance)
    created_at = ma.fields.DateTime()


# --- helpers -------------------------------------------------------------------------------

def _name(row) -> str:
    locale = str(get_locale() or "fa")
    return (row.name_en if locale.startswith("en") else row.name_fa) or row.name_fa or ""


def _visible_members():
    return scoped(select(Member), Member, "loyalty")


def _customer_by_mobile(mobile: str) -> Customer | None:
    try:
        value = canonical_mobile(mobile)
    except ValueError:
        invalid_fields({"mobile": [_("This is not a mobile number.")]})
    ids = select(ContactPoint.customer_id).where(ContactPoint.kind == "mobile",
                                                 ContactPoint.value == value)
    for (customer_id,) in db.session.execute(ids.order_by(ContactPoint.customer_id)):
        customer = visible_customer(customer_id)
        if customer is not None:
            return customer
    return None


def _member_from(data) -> Member:
    """The member named by ``member_id``, ``card_number`` or ``mobile`` (one of them)."""
    given = [name for name in ("member_id", "card_number", "mobile") if data.get(name)]
    if len(given) != 1:
        invalid_fields({"member_id": [_("Name the member by one of member_id, card_number "
                                        "or mobile.")]})
    name = given[0]
    member = None
    if name == "member_id":
        member = db.session.execute(_visible_members().where(
            Member.id == data["member_id"])).scalar()
    elif name == "card_number":
        number = to_latin_digits(data["card_number"]).replace(" ", "").replace("-", "")
        member = db.session.execute(_visible_members().where(
            Member.card_number == number)).scalar()
    else:
        customer = _customer_by_mobile(data["mobile"])
        if customer is not None:
            member = db.session.execute(_visible_members().where(
                Member.customer_id == customer.id)).scalar()
    if member is None:
        invalid_fields({name: [_("No club member has this %(what)s.", what=name.replace(
            "_", " "))]})
    return member


def _not_enough(exc: ledger.InsufficientPoints):
    return problem(409, _("Not enough points"), str(exc), wanted=exc.wanted,
                   available=exc.available)


def _result(kind: str, member: Member, entries: list[Entry]) -> dict:
    member = db.session.get(Member, member.id)
    return {"type": kind, "member_id": member.id, "points": sum(e.points for e in entries
                                                                 if e.kind == kind),
            "balance": member.balance, "pending": member.pending, "entries": entries}


# --- members -------------------------------------------------------------------------------

@bp.route("/members")
class Members(MethodView):
    @require_permission("loyalty.view")
    @bp.arguments(ClubMemberArgs, location="query")
    @bp.response(200, ClubMemberPage)
    def get(self, args):
        """Club members the user may see, newest first."""
        stmt = _visible_members()
        q = to_latin_digits(args["q"].strip())
        if q:
            if q.replace(" ", "").replace("-", "").isdigit():
                stmt = stmt.where(Member.card_number.like(
                    f"%{q.replace(' ', '').replace('-', '')}%"))
            else:
                stmt = stmt.where(Member.customer_id.in_(select(Customer.id).where(
                    Customer.display_name.ilike(f"%{q}%"))))
        for name, column in (("status", Member.status), ("tier_id", Member.tier_id),
                             ("customer_id", Member.customer_id)):
            if args[name] is not None:
                stmt = stmt.where(column == args[name])
        if args["min_balance"] is not None:
            stmt = stmt.where(Member.balance >= args["min_balance"])
        page = keyset_page(stmt, [Member.enrolled_at.desc(), Member.id.desc()],
                           after=args["after"], size=args["size"])
        return respond(ClubMemberPage, {"items": page.items, "next": page.next_token})

    @require_permission("loyalty.work")
    @idempotent
    @bp.arguments(ClubMemberIn)
    @bp.response(201, ClubMemberDetail)
    def post(self, data):
        """Enrol a customer (by ``customer_id`` or ``mobile``); an unknown mobile with a name
        creates the customer. Already a member: 200 with the membership."""
        if data["customer_id"]:
            customer = visible_customer(data["customer_id"])
            if customer is None:
                invalid_fields({"customer_id": [_("Choose the customer.")]})
        elif data["mobile"]:
            customer = _customer_by_mobile(data["mobile"])
            if customer is None:
                if not (data["first_name"].strip() or data["last_name"].strip()):
                    invalid_fields({"last_name": [_(
                        "Nobody has this mobile; give a name to add the customer.")]})
                from core.customers.services import CustomerError, create_customer

                try:
                    customer = create_customer(by=current_user, kind="person",
                                               first_name=data["first_name"],
                                               last_name=data["last_name"],
                                               mobiles=[data["mobile"]])
                except CustomerError as exc:
                    invalid_fields({k: [v] for k, v in exc.errors.items()})
        else:
            invalid_fields({"customer_id": [_("Give the customer id or a mobile.")]})
        existing = club.member_of(customer.id)
        if existing is not None:
            if db.session.execute(_visible_members().where(Member.id == existing.id)).scalar():
                return existing, 200
            invalid_fields({"customer_id": [_("Choose the customer.")]})
        member = club.enrol(customer, via="api")
        commit_unless_keyed()
        return member


@bp.route("/members/<int:member_id>")
class MemberItem(MethodView):
    @require_permission("loyalty.view")
    @bp.response(200, ClubMemberDetail)
    def get(self, member_id):
        """One member: balance, pending, tier, card number and points expiring soon."""
        return get_scoped_or_404(Member, member_id, "loyalty")


# --- transactions --------------------------------------------------------------------------

@bp.route("/transactions")
class Transactions(MethodView):
    @require_permission("loyalty.view")
    @bp.arguments(ClubEntryArgs, location="query")
    @bp.response(200, ClubEntryPage)
    def get(self, args):
        """A member's ledger entries, newest first."""
        member = _member_from(args)
        stmt = select(Entry).where(Entry.member_id == member.id)
        if args["kind"]:
            stmt = stmt.where(Entry.kind == args["kind"])
        page = keyset_page(stmt, [Entry.id.desc()], after=args["after"], size=args["size"])
        return {"items": page.items, "next": page.next_token}

    @require_permission("loyalty.work")
    @idempotent
    @bp.arguments(ClubTransactionIn)
    @bp.response(201, ClubTransactionOut)
    def post(self, data):
        """Earn on a purchase (``amount`` in rials, through the earning rules), redeem
        ``points``, or adjust by ± ``points`` (needs loyalty.manage); honours
        Idempotency-Key. Not enough points: 409."""
        kind = data["type"]
        errors = {}
        if kind == "earn":
            if data["amount"] is None or data["amount"] <= 0:
                errors["amount"] = [_("Give the purchase amount in rials, more than zero.")]
            if not data["reference"].strip():
                errors["reference"] = [_("Give the receipt number: a purchase earns once.")]
        elif kind == "redeem":
            if data["points"] is None or data["points"] <= 0:
                errors["points"] = [_("Give the points to redeem, more than zero.")]
        else:
            if not has_permission("loyalty.manage"):
                errors["type"] = [_("Adjusting points needs the right to manage the club.")]
            if not data["points"]:
                errors["points"] = [_("Give the points to add (positive) or take (negative).")]
            if not data["reason"].strip():
                errors["reason"] = [_("Say why the points are adjusted.")]
        if errors:
            invalid_fields(errors)
        member = _member_from(data)
        reference = data["reference"].strip()
        try:
            if kind == "earn":
                if member.status != "active":
                    invalid_fields({"member_id": [_(
                        "This member has left the club and earns no points.")]})
                from modules.loyalty import earning

                entries = earning.earn_for_purchase(
                    member, amount=data["amount"], reference=f"api:{reference}",
                    key=f"earn:api:{member.id}:{reference}", by=current_user)
            elif kind == "redeem":
                entries = [ledger.redeem(member, data["points"], reference=reference,
                                         reason=data["reason"].strip()
                                         or _("Redeemed through the API"), by=current_user)]
            else:
                entries = [ledger.adjust(member, data["points"], reason=data["reason"].strip(),
                                         reference=reference, by=current_user)]
        except ledger.InsufficientPoints as exc:
            commit_unless_keyed()  # what settling the member wrote (expiries) stays
            return _not_enough(exc)
        except ledger.LedgerError as exc:
            invalid_fields({"points" if kind != "earn" else "amount": [str(exc)]})
        result = _result(kind, member, entries)
        commit_unless_keyed()
        return result


# --- rewards -------------------------------------------------------------------------------

@bp.route("/rewards")
class Rewards(MethodView):
    @require_permission("loyalty.view")
    @bp.arguments(ClubRewardArgs, location="query")
    @bp.response(200, ClubRewardOut(many=True))
    def get(self, args):
        """Active rewards, cheapest first; with a member, only those they may take now."""
        from modules.loyalty import rewards

        if any(args.get(n) for n in ("member_id", "card_number", "mobile")):
            member = _member_from(args)
            available = getattr(rewards, "available_rewards", None)
            if available is not None:
                return available(member)
        return list(db.session.execute(select(Reward).where(Reward.active.is_(True))
                                       .order_by(Reward.cost_points, Reward.id)).scalars())


@bp.route("/rewards/<int:reward_id>/redeem")
class RewardRedeem(MethodView):
    @require_permission("loyalty.work")
    @idempotent
    @bp.arguments(ClubMemberRef)
    @bp.response(201, ClubRedemptionOut)
    def post(self, data, reward_id):
        """Redeem a reward for a member (a coupon code comes back for coupon rewards);
        honours Idempotency-Key. Not enough points: 409."""
        from modules.loyalty import rewards

        reward = db.session.get(Reward, reward_id)
        if reward is None:
            invalid_fields({"reward_id": [_("No such reward.")]})
        member = _member_from(data)
        reward_error = getattr(rewards, "RewardError", ledger.LedgerError)
        try:
            redemption = rewards.redeem_reward(member, reward, channel="api", by=current_user)
        except ledger.InsufficientPoints as exc:
            commit_unless_keyed()
            return _not_enough(exc)
        except (ledger.LedgerError, reward_error) as exc:
            invalid_fields({"reward_id": [str(exc)]})
        commit_unless_keyed()
        return redemption


def register(app) -> None:
    """Add the club API to ``/api/v1`` (its OpenAPI document included)."""
    from core.extensions import api

    api.register_blueprint(bp, app=app)
