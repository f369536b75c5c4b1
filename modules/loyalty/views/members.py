"""Club pages: the member list, a member's page (balance, history, card and QR), adjusting
points, leaving and rejoining, enrolling a customer, and importing members from a file."""

import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from core.auth.permissions import has_permission, require_permission
from core.auth.scope import get_scoped_or_404
from core.customers.search import customer_choices, visible_customer
from core.extensions import db
from core.fields import DigitsIntegerField
from core.i18n import format_number
from core.pagination import request_page
from core.ui import row_urls
from modules.loyalty import ledger, member_import, member_list
from modules.loyalty import members as services
from modules.loyalty.models.ledger import Entry
from modules.loyalty.models.members import Member
from modules.loyalty.models.tiers import Tier
from modules.loyalty.views import bp

EXPIRING_DAYS = 30
KIND_LABELS = {"earn": _l("Earned"), "release": _l("Became usable"), "redeem": _l("Redeemed"),
               "expire": _l("Expired"), "adjust": _l("Adjusted"), "reverse": _l("Taken back")}
CHANNEL_LABELS = {"purchase": _l("First purchase"), "manual": _l("By hand"),
                  "import": _l("Import"), "api": _l("API"), "referral": _l("Referral"),
                  "portal": _l("Portal")}


class AdjustForm(FlaskForm):
    points = DigitsIntegerField(_l("Points"), validators=[InputRequired()],
                                description=_l("Positive adds points, negative removes them."))
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=300)],
                         description=_l("Shown in the member's history."))


class EnrolForm(FlaskForm):
    customer_id = IntegerField(validators=[DataRequired()])


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or Excel file"), validators=[
        FileRequired(_l("Choose a file to import.")),
        FileAllowed(("csv", "txt", "xlsx"), _l("Choose a CSV or Excel (XLSX) file."))],
        description=_l("The first line names the columns, as listed below."))
    dry_run = BooleanField(_l("Only check the file (dry run)"), default=True)


class ActionForm(FlaskForm):
    """CSRF only (opt out, rejoin)."""


def tiers() -> list[Tier]:
    return list(db.session.execute(select(Tier).order_by(Tier.rank, Tier.id)).scalars())


def tier_name(tier: Tier | None) -> str:
    from modules.loyalty.integration import tier_label

    return tier_label(tier)


def card_groups(number: str) -> str:
    """``7960 1234 5678 9012``: the card number in groups of four."""
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


@bp.app_template_filter("loyalty_card")
def _card_filter(number: str) -> str:
    from core.i18n import digits

    return digits(card_groups(number or ""))


@bp.route("/members")
@require_permission("loyalty.view")
def members():
    """Members the user may see: search, filters, sorting, keyset pages."""
    filters, errors = member_list.read_filters(request.args)
    stmt, sort, columns = member_list.search(filters, request.args.get("sort"))
    page = request_page(member_list.list_rows(stmt), columns)
    all_tiers = tiers()
    return render_template("loyalty/members.html", page=page, sort=sort, filters=filters,
                           errors=errors, tiers=all_tiers,
                           tier_names={tier.id: tier_name(tier) for tier in all_tiers},
                           tier_colors={tier.id: tier.color or "secondary" for tier in all_tiers},
                           urls=member_urls(member.id for member, _name in page),
                           statuses=member_list.STATUS_LABELS,
                           filtered=any(filters.values()) or bool(errors))


def member_urls(ids) -> dict[int, str]:
    """The page link of each member id (the route is built once, not once per row)."""
    return row_urls("loyalty.member", "member_id", ids)


def _member(member_id: int) -> Member:
    return get_scoped_or_404(Member, member_id, "loyalty")


def _progress(member: Member) -> dict | None:
    from modules.loyalty import tiers as tier_rules

    progress = getattr(tier_rules, "tier_progress", None)
    return progress(member) if callable(progress) else None


def _rewards(member: Member) -> list:
    """Rewards the member can take now, each with the link that redeems it (if any)."""
    from flask import current_app
    from werkzeug.routing import BuildError

    from modules.loyalty import rewards

    available = getattr(rewards, "available_rewards", None)
    if "loyalty.redeem" not in current_app.view_functions or not callable(available):
        return []
    if not has_permission("loyalty.work") or member.status != "active":
        return []
    found = []
    for reward in available(member):
        try:
            url = url_for("loyalty.redeem", member_id=member.id, reward_id=reward.id)
        except BuildError:
            continue
        found.append((reward, url))
    return found


def reference_labels(entries) -> dict[int, str]:
    """What people read for each entry's reference, by entry id. The invoices and rewards the
    entries name are loaded first, in one query each, so that naming them finds them in the
    session instead of querying once per row."""
    from modules.loyalty.labels import reference_label
    from modules.loyalty.models.rewards import Reward

    wanted: dict[str, set[int]] = {"sales.invoice": set(), "loyalty.reward": set()}
    for entry in entries:
        kind, _sep, number = (entry.reference or "").partition(":")
        if kind in wanted and number.isdigit():
            wanted[kind].add(int(number))
    loaded = []  # kept referenced while the labels are made (the session holds them weakly)
    if wanted["loyalty.reward"]:
        loaded += db.session.execute(select(Reward).where(
            Reward.id.in_(wanted["loyalty.reward"]))).unique().scalars().all()
    if wanted["sales.invoice"]:
        from modules.sales.services import invoices_by_ids

        loaded += invoices_by_ids(wanted["sales.invoice"])
    return {entry.id: reference_label(entry.reference) for entry in entries}


@bp.route("/members/<int:member_id>")
@require_permission("loyalty.view")
def member(member_id: int):
    """A member: balance, pending and soon-to-expire points, tier, card, QR and history."""
    member = _member(member_id)
    expiring = ledger.expiring(member.id, EXPIRING_DAYS)
    history = request_page(select(Entry).where(Entry.member_id == member.id),
                           [Entry.id.desc()])
    return render_template(
        "loyalty/member.html", member=member, customer=member.customer,
        expiring=expiring, expiring_points=sum(lot.remaining for lot in expiring),
        expiring_first=min((lot.expires_on for lot in expiring), default=None),
        expiring_days=EXPIRING_DAYS, history=history, kinds=KIND_LABELS,
        references=reference_labels(history),
        channels=CHANNEL_LABELS, progress=_progress(member), tier_name=tier_name,
        rewards=_rewards(member), adjust_form=AdjustForm(), action_form=ActionForm(),
        point_value=ledger.club_settings().point_value,
        customer_visible=visible_customer(member.customer_id) is not None)


@bp.route("/members/<int:member_id>/qr.svg")
@require_permission("loyalty.view")
def member_qr(member_id: int):
    """The member's card number as a QR code (SVG)."""
    import segno

    member = _member(member_id)
    buffer = io.BytesIO()
    segno.make(member.card_number, error="m", micro=False).save(
        buffer, kind="svg", scale=6, border=2, title=card_groups(member.card_number))
    response = Response(buffer.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _back(member: Member):
    return redirect(url_for("loyalty.member", member_id=member.id))


@bp.route("/members/<int:member_id>/adjust", methods=["POST"])
@require_permission("loyalty.manage")
def member_adjust(member_id: int):
    """Add or remove points by hand, with a reason."""
    member = _member(member_id)
    form = AdjustForm()
    if not form.validate_on_submit():
        problems = [f"{f.label.text}: {e}" for f in (form.points, form.reason) for e in f.errors]
        flash(" ".join(problems) or _("Enter the points and the reason."), "danger")
        return _back(member)
    if form.points.data == 0:
        flash(_("Enter a number of points other than zero."), "danger")
        return _back(member)
    try:
        ledger.adjust(member, form.points.data, reason=form.reason.data.strip(),
                      by=current_user)
    except ledger.LedgerError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return _back(member)
    db.session.commit()
    flash(_("Points adjusted."), "success")
    return _back(member)


@bp.route("/members/<int:member_id>/opt-out", methods=["POST"])
@require_permission("loyalty.work")
def member_opt_out(member_id: int):
    """The member leaves the club: no more earning or messages; points and history stay."""
    member = _member(member_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if member.status == "active":
        services.opt_out(member)
        db.session.commit()
    flash(_("The member has left the club."), "success")
    return _back(member)


@bp.route("/members/<int:member_id>/rejoin", methods=["POST"])
@require_permission("loyalty.work")
def member_rejoin(member_id: int):
    """A member who left comes back, with the points they had."""
    member = _member(member_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if member.status != "active":
        services.rejoin(member)
        db.session.commit()
    flash(_("The member has rejoined the club."), "success")
    return _back(member)


@bp.route("/members/enrol", methods=["GET", "POST"])
@require_permission("loyalty.work")
def member_enrol():
    """Enrol a customer by hand: find them, then confirm."""
    form = EnrolForm()
    if form.validate_on_submit():
        customer = visible_customer(form.customer_id.data)
        if customer is None:
            abort(404)
        existing = services.member_of(customer.id)
        member = services.enrol(customer, via="manual")
        db.session.commit()
        if existing is None:
            flash(_("%(name)s joined the club.", name=customer.display_name), "success")
        else:
            flash(_("%(name)s is already a member.", name=customer.display_name), "info")
        if get_visible(member) is None:
            return redirect(url_for("loyalty.members"))
        return _back(member)
    query = (request.args.get("customer_q") or "").strip()
    chosen = visible_customer(request.args.get("customer", type=int))
    found = customer_choices(query) if query else []
    members = {m.customer_id: m for m in db.session.execute(select(Member).where(
        Member.customer_id.in_([c.id for c in found + ([chosen] if chosen else [])])))
        .scalars()}
    return render_template("loyalty/member_enrol.html", form=form, query=query,
                           chosen=chosen, found=found, members=members)


def get_visible(member: Member) -> Member | None:
    """``member`` if the user may see it (a fresh enrolment follows the customer's owner)."""
    return db.session.execute(member_list.visible_members().where(
        Member.id == member.id)).scalar()


@bp.route("/members/import", methods=["GET", "POST"])
@require_permission("loyalty.manage")
def members_import():
    """Enrol customers from a CSV or Excel file; a dry run checks every row first."""
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        report = member_import.import_upload(form.file.data, dry_run=form.dry_run.data)
        if report.problem or report.dry_run:
            db.session.rollback()
        else:
            db.session.commit()
            flash(_("%(count)s customers joined the club.",
                    count=format_number(report.count("enrolled"))), "success")
    return render_template("loyalty/members_import.html", form=form, report=report)
