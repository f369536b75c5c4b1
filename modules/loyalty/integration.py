"""The club on the customer's pages and in other modules: merge and anonymise handlers,
timeline entries, the club card panel, "Join the club", marketing segment fields, dashboard
widgets, and the member's owner and team following the customer's."""

from flask import Flask, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import exists, func, select, update

from core.auth.permissions import has_permission
from core.auth.scope import scoped
from core.customers.models import Customer
from core.customers.timeline import TimelineEntry
from core.events import customer_updated, module_listener
from core.extensions import db
from core.i18n import format_number, localize_digits, request_cached
from modules.loyalty import ledger
from modules.loyalty.labels import reference_label
from modules.loyalty.members import member_of
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.members import Member
from modules.loyalty.models.rewards import Coupon, Redemption
from modules.loyalty.models.tiers import Tier, TierChange

TIMELINE_LIMIT = 100


# --- merge and anonymise -------------------------------------------------------------------

def merge_handler(survivor_id: int, loser_id: int) -> None:
    """Customer merge: both members → one ledger; only the loser a member → theirs moves."""
    loser = member_of(loser_id)
    db.session.execute(update(Coupon).where(Coupon.customer_id == loser_id)
                       .values(customer_id=survivor_id)
                       .execution_options(synchronize_session=False))
    if loser is None:
        return
    survivor = member_of(survivor_id)
    if survivor is None:
        db.session.execute(update(Member).where(Member.id == loser.id)
                           .values(customer_id=survivor_id)
                           .execution_options(synchronize_session=False))
        db.session.expire(loser)
        return
    ledger.merge_members(survivor, loser)
    survivor, loser = db.session.get(Member, survivor.id), db.session.get(Member, loser.id)
    for model, column in ((Redemption, Redemption.member_id), (TierChange, TierChange.member_id),
                          (Member, Member.referred_by_id)):
        db.session.execute(update(model).where(column == loser.id).values(
            {column.key: survivor.id}).execution_options(synchronize_session=False))
    if loser.tier is not None and (survivor.tier is None or loser.tier.rank > survivor.tier.rank):
        survivor.tier_id, survivor.tier_since = loser.tier_id, loser.tier_since
    if loser.enrolled_at and (survivor.enrolled_at is None
                              or _naive(loser.enrolled_at) < _naive(survivor.enrolled_at)):
        survivor.enrolled_at = loser.enrolled_at
    if survivor.referred_by_id in (loser.id, survivor.id):
        survivor.referred_by_id = None
    db.session.delete(loser)
    db.session.flush()


def _naive(value):
    return value.replace(tzinfo=None)


def anonymise_handler(customer_id: int) -> None:
    """Anonymisation: the member leaves the club (no more messages); the ledger stays, since
    its points are a liability the books still carry."""
    from modules.loyalty.members import opt_out

    member = member_of(customer_id)
    if member is not None and member.status == "active":
        opt_out(member)


@module_listener("loyalty")
def follow_customer_owner(_sender, customer=None, fields=(), **_extra) -> None:
    """The member's owner and team follow the customer's (record scope)."""
    if customer is None or not {"owner_id", "team_id"} & set(fields or ()):
        return
    db.session.execute(update(Member).where(Member.customer_id == customer.id).values(
        owner_id=customer.owner_id, team_id=customer.team_id)
        .execution_options(synchronize_session="fetch"))


# --- the customer 360 page -----------------------------------------------------------------

def visible_member(customer_id: int) -> Member | None:
    """The customer's membership if the user may see club members and this one."""
    if not has_permission("loyalty.view"):
        return None
    # Once per request: the timeline, the panel and the actions of the 360 page all ask.
    return request_cached(f"loyalty.visible_member:{customer_id}", lambda: db.session.execute(
        scoped(select(Member).where(Member.customer_id == customer_id), Member, "loyalty")
    ).scalar())


def _entry_title(entry: Entry) -> str | None:
    points = format_number(abs(entry.points))
    if entry.kind == "earn":
        return _("Earned %(points)s club points", points=points)
    if entry.kind == "redeem":
        return _("Redeemed %(points)s club points", points=points)
    if entry.kind == "expire":
        return _("%(points)s club points expired", points=points)
    if entry.kind == "reverse":
        return _("%(points)s club points taken back", points=points)
    if entry.kind == "adjust":
        if entry.points > 0:
            return _("%(points)s club points added by hand", points=points)
        return _("%(points)s club points removed by hand", points=points)
    return None  # a release moves points between buckets: not news


def timeline_entries(customer) -> list[TimelineEntry]:
    """Joined, earned, redeemed, expired, adjusted points and tier changes."""
    member = visible_member(customer.id)
    if member is None:
        return []
    url = url_for("loyalty.member", member_id=member.id)
    found = [TimelineEntry(at=member.enrolled_at, kind="club_joined", module="loyalty",
                           url=url, title=_("Joined the customer club"),
                           detail=localize_digits(member.card_number))]
    entries = db.session.execute(select(Entry).where(
        Entry.member_id == member.id, Entry.kind != "release")
        .order_by(Entry.id.desc()).limit(TIMELINE_LIMIT)).scalars()
    for entry in entries:
        title = _entry_title(entry)
        if title:
            detail = " · ".join(p for p in (localize_digits(entry.reason),
                                            reference_label(entry.reference)) if p)
            found.append(TimelineEntry(at=entry.created_at, kind=f"points_{entry.kind}",
                                       module="loyalty", url=url, title=title, detail=detail))
    changes = db.session.execute(select(TierChange).where(
        TierChange.member_id == member.id, TierChange.status != "cancelled")
        .order_by(TierChange.id.desc()).limit(TIMELINE_LIMIT)).scalars()
    for change in changes:
        new = tier_label(change.to_tier)
        if change.status == "scheduled":
            title = _("Club tier to change to %(tier)s", tier=new)
            at = change.created_at
        else:
            title = _("Club tier changed to %(tier)s", tier=new)
            at = change.effective_at
        found.append(TimelineEntry(at=at, kind="tier_change", module="loyalty", url=url,
                                   title=title, detail=change.reason))
    return found


def tier_label(tier: Tier | None) -> str:
    """A tier's name in the reader's language ("no tier" for none)."""
    from core.i18n import current_locale

    if tier is None:
        return _("No tier")
    return (tier.name_en if current_locale() == "en" and tier.name_en else tier.name_fa)


def customer_panel(customer):
    """The club card on the 360 page: tier, balance, pending; or how to enrol."""
    if not has_permission("loyalty.view"):
        return None
    member = visible_member(customer.id)
    if member is None and not has_permission("loyalty.work"):
        return None
    return Markup(render_template("loyalty/member_panel.html", member=member,
                                  customer=customer,
                                  tier=tier_label(member.tier) if member else ""))


def customer_actions(customer) -> list:
    """"Join the club" for a customer who is not a member, for those who serve members."""
    from core.customers.actions import CustomerAction

    if not has_permission("loyalty.work") or customer.anonymised_at is not None:
        return []
    if visible_member(customer.id) is not None or member_of(customer.id) is not None:
        return []
    return [CustomerAction(_("Join the club"),
                           url_for("loyalty.member_enrol", customer=customer.id),
                           icon="gift", module="loyalty")]


# --- marketing segment fields --------------------------------------------------------------

def _tier_choices() -> list[tuple[str, str]]:
    tiers = db.session.execute(select(Tier).where(Tier.active.is_(True))
                               .order_by(Tier.rank, Tier.id)).scalars()
    return [(str(t.id), tier_label(t)) for t in tiers]


def compile_tier(op, rule, now):
    """Customers whose active membership is in the chosen tier(s) ("is not": everyone else)."""
    value = rule["value"]
    ids = [int(v) for v in value] if isinstance(value, list) else [int(value)]
    inside = exists().where(Member.customer_id == Customer.id, Member.status == "active",
                            Member.tier_id.in_(ids))
    return ~inside if op == "is_not" else inside


def compile_balance(op, rule, now):
    """Members whose available points are at least / at most / between the values."""
    value = rule["value"]
    if op == "gte":
        test = Member.balance >= value
    elif op == "lte":
        test = Member.balance <= value
    else:
        test = Member.balance.between(value[0], value[1])
    return exists().where(Member.customer_id == Customer.id, test)


def register_segment_fields(app: Flask) -> None:
    """"Club tier" and "Points balance" in marketing's segment builder."""
    from core.modules import is_active, registry

    if "marketing" not in registry(app).loaded:
        return
    from modules.marketing.services import register_field

    def active():
        return is_active("loyalty")

    register_field("loyalty_tier", _l("Club tier"), compile_tier, type="choice",
                   choices=_tier_choices, active=active)
    register_field("loyalty_balance", _l("Points balance"), compile_balance, type="number",
                   active=active)


# --- dashboard widget ----------------------------------------------------------------------

def club_figures(active_days: int = 90) -> dict:
    """Members, active members (earned or spent in ``active_days``), outstanding points and
    their value, within the user's record scope."""
    from datetime import timedelta

    base = scoped(select(Member), Member, "loyalty")
    since = ledger.today() - timedelta(days=active_days)
    row = db.session.execute(base.with_only_columns(
        func.count(Member.id),
        func.count(Member.id).filter(Member.status == "active",
                                     Member.last_activity_on >= since),
        func.coalesce(func.sum(Member.balance), 0),
        func.coalesce(func.sum(Member.pending), 0))).one()
    points = int(row[2])
    return {"members": int(row[0]), "active": int(row[1]), "balance": points,
            "pending": int(row[3]), "value": points * ledger.club_settings().point_value,
            "days": active_days}


def render_widget() -> Markup:
    """The club at a glance."""
    from flask_login import current_user

    if not (current_user.is_authenticated and has_permission("loyalty.view")
            and "loyalty" in current_user.seat_modules):
        return Markup("")
    return Markup(render_template("loyalty/members_widget.html", fig=club_figures()))


def register(app: Flask) -> None:
    from core.customers.actions import add_action_provider
    from core.customers.anonymise import add_anonymise_handler
    from core.customers.merge import add_merge_handler
    from core.customers.panels import add_panel_provider
    from core.customers.timeline import add_provider
    from core.ui import Widget, add_widget

    add_merge_handler(app, merge_handler)
    add_anonymise_handler(app, anonymise_handler)
    add_provider(app, timeline_entries)
    add_panel_provider(app, customer_panel, module="loyalty")
    add_action_provider(app, customer_actions)
    customer_updated.connect(follow_customer_owner, weak=False)
    add_widget(app, Widget("loyalty", _l("Customer club"), render_widget,
                           permission="loyalty.view", order=40))
    register_segment_fields(app)
