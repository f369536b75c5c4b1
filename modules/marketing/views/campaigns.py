"""Marketing pages: campaigns (list, edit, preview, test send, schedule, progress, stats)."""

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import load_only

from core.auth.permissions import require_permission
from core.extensions import db
from core.i18n import normalize
from core.pagination import request_page, sort_columns
from core.ui import row_urls
from modules.marketing import engine
from modules.marketing.models.campaigns import CHANNELS, STATUSES, Campaign
from modules.marketing.models.segments import Segment
from modules.marketing.sms_length import sms_length
from modules.marketing.views import bp
from modules.marketing.views.campaign_content import preview, progress, sample_customer, stats
from modules.marketing.views.campaign_forms import (
    EDITABLE,
    CampaignError,
    CampaignForm,
    ScheduleForm,
    TestSendForm,
    clock,
    save_campaign,
)

# The email's own HTML: inline styles as mail clients take them, no script at all, sandboxed.
PREVIEW_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; "
               "frame-ancestors 'self'; sandbox")
SORTS = {"created": Campaign.created_at, "name": Campaign.name}
LIST_COLUMNS = (Campaign.name, Campaign.status, Campaign.channel, Campaign.segment_id,
                Campaign.scheduled_at, Campaign.created_at)
ACTIONS = {"start": _l("Sending started."), "pause": _l("Sending paused."),
           "resume": _l("Sending resumed."), "cancel": _l("Campaign cancelled.")}


@bp.context_processor
def _marketing_nav() -> dict:
    """``marketing_has(endpoint)``: the nav shows tabs whose pages exist in this deployment."""
    return {"marketing_has": lambda endpoint: endpoint in current_app.view_functions}


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.session.get(Campaign, campaign_id) or abort(404)


@bp.route("/campaigns", endpoint="campaigns")
@require_permission("marketing.view")
def campaigns_index():
    """Campaigns, newest first: search by name, filter by status and channel."""
    query, status, channel = (request.args.get(k, "") for k in ("q", "status", "channel"))
    stmt = select(Campaign)
    for word in query.split():
        stmt = stmt.where(Campaign.name.contains(word.strip(), autoescape=True)
                          | Campaign.name.contains(normalize(word), autoescape=True))
    if status in STATUSES:
        stmt = stmt.where(Campaign.status == status)
    if channel in CHANNELS:
        stmt = stmt.where(Campaign.channel == channel)
    sort, columns = sort_columns(request.args.get("sort"), SORTS, "-created", Campaign.id)
    # Each row: the campaign (without its texts, which the list does not show) and the
    # name of its segment.
    stmt = (stmt.outerjoin(Segment, Segment.id == Campaign.segment_id)
            .add_columns(Segment.name).options(load_only(*LIST_COLUMNS)))
    page = request_page(stmt, columns)
    ids = [campaign.id for campaign, _segment in page]
    return render_template("marketing/campaigns.html", page=page, sort=sort, query=query,
                           status=status, channel=channel, statuses=STATUSES,
                           progress=engine.progress_of(ids), urls=campaign_urls(ids),
                           filtered=bool(query or status or channel))


def campaign_urls(ids) -> dict[int, str]:
    """The page link of each campaign id (the route is built once, not once per row)."""
    return row_urls("marketing.campaign", "campaign_id", ids)


def _edit_form(campaign: Campaign | None) -> CampaignForm:
    form = CampaignForm(obj=campaign if request.method == "GET" and campaign else None)
    form.fill_choices()
    if request.method == "GET" and campaign is not None:
        form.quiet_start.data, form.quiet_end.data = (clock(campaign.quiet_start),
                                                      clock(campaign.quiet_end))
    elif request.method == "GET":
        form.ab_percent.data, form.ab_wait_hours.data, form.attribution_days.data = 20, 4, 30
    return form


def _save(form: CampaignForm, campaign: Campaign | None) -> Campaign | None:
    if not form.validate_on_submit():
        return None
    try:
        campaign = save_campaign(campaign, form.values(), by=current_user)
    except CampaignError as exc:
        for name, message in exc.errors.items():
            target = getattr(form, name, None)
            (target.errors.append if target is not None else form.form_errors.append)(message)
        return None
    db.session.commit()
    return campaign


def _render_form(form: CampaignForm, campaign: Campaign | None):
    counts = {name: sms_length(getattr(form, name).data or "")
              for name in ("body_text", "body_text_b")}
    return render_template("marketing/campaign_form.html", form=form, campaign=campaign,
                           counts=counts)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@require_permission("marketing.manage")
def campaign_new():
    """Write a campaign: channel, segment, message, A/B options, limits."""
    form = _edit_form(None)
    campaign = _save(form, None)
    if campaign is not None:
        flash(_("Campaign saved as a draft. Preview it and send a test."), "success")
        return redirect(url_for("marketing.campaign", campaign_id=campaign.id))
    return _render_form(form, None)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@require_permission("marketing.manage")
def campaign_edit(campaign_id: int):
    """Change a campaign that has not started sending."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.status not in EDITABLE:
        flash(_("A campaign that is sending or done cannot change."), "warning")
        return redirect(url_for("marketing.campaign", campaign_id=campaign.id))
    form = _edit_form(campaign)
    if _save(form, campaign) is not None:
        flash(_("Changes saved."), "success")
        return redirect(url_for("marketing.campaign", campaign_id=campaign.id))
    return _render_form(form, campaign)


@bp.route("/campaigns/<int:campaign_id>")
@require_permission("marketing.view")
def campaign(campaign_id: int):
    """A campaign: what it sends to whom, live progress, results, and its actions."""
    campaign = _campaign_or_404(campaign_id)
    return render_template("marketing/campaign.html", campaign=campaign,
                           segment=db.session.get(Segment, campaign.segment_id or 0),
                           progress=progress(campaign), stats=stats(campaign),
                           test_form=TestSendForm(),
                           schedule_form=ScheduleForm(when=campaign.scheduled_at),
                           length=sms_length(campaign.body_text), editable=EDITABLE,
                           quiet=(clock(campaign.quiet_start), clock(campaign.quiet_end)))


@bp.route("/campaigns/<int:campaign_id>/progress")
@require_permission("marketing.view")
def campaign_progress(campaign_id: int):
    """The progress box alone (htmx polls it while the campaign sends)."""
    campaign = _campaign_or_404(campaign_id)
    return render_template("marketing/campaign_progress.html", campaign=campaign,
                           progress=progress(campaign))


@bp.route("/campaigns/<int:campaign_id>/preview")
@require_permission("marketing.view")
def campaign_preview(campaign_id: int):
    """The message as a sample customer of the segment would get it (version A or B)."""
    campaign = _campaign_or_404(campaign_id)
    variant = "b" if request.args.get("variant") == "b" and campaign.ab_test else "a"
    customer = sample_customer(campaign)
    shown = preview(campaign, variant, customer)
    return render_template("marketing/campaign_preview.html", campaign=campaign,
                           customer=customer, variant=variant,
                           length=sms_length(shown["text"]), **shown)


@bp.route("/campaigns/<int:campaign_id>/preview/email")
@require_permission("marketing.view")
def campaign_preview_email(campaign_id: int):
    """The email's HTML alone, for the preview frame (its inline styles need their own CSP)."""
    campaign = _campaign_or_404(campaign_id)
    variant = "b" if request.args.get("variant") == "b" and campaign.ab_test else "a"
    response = make_response(preview(campaign, variant, sample_customer(campaign))["html"])
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/campaigns/<int:campaign_id>/test", methods=["POST"])
@require_permission("marketing.manage")
def campaign_test(campaign_id: int):
    """Send the campaign once to an address of the user's choosing."""
    campaign = _campaign_or_404(campaign_id)
    form = TestSendForm()
    if form.validate_on_submit():
        try:
            sent = engine.test_send(campaign, form.address.data.strip(), by=current_user)
        except ValueError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            if sent:
                flash(_("Test sent to %(address)s.", address=form.address.data.strip()),
                      "success")
            else:
                flash(_("Not sent: that address has opted out or cannot be used."), "warning")
    else:
        flash(_("Write the address to send the test to."), "danger")
    return redirect(url_for("marketing.campaign", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/schedule", methods=["POST"])
@require_permission("marketing.manage")
def campaign_schedule(campaign_id: int):
    """Send later: a Jalali date and a Tehran time."""
    campaign = _campaign_or_404(campaign_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        for error in form.when.errors or [_("Choose the date and time.")]:
            flash(error, "danger")
        return redirect(url_for("marketing.campaign", campaign_id=campaign.id))
    try:
        engine.schedule(campaign, form.when.data)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash(_("Campaign scheduled."), "success")
    return redirect(url_for("marketing.campaign", campaign_id=campaign.id))


@bp.route("/campaigns/<int:campaign_id>/<any(start, pause, resume, cancel):action>",
          methods=["POST"])
@require_permission("marketing.manage")
def campaign_action(campaign_id: int, action: str):
    """Start now, pause, resume or cancel the sending."""
    campaign = _campaign_or_404(campaign_id)
    try:
        if action == "start":
            engine.start(campaign, by=current_user)
        else:
            getattr(engine, action)(campaign)
    except ValueError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash(str(ACTIONS[action]), "success")
    return redirect(url_for("marketing.campaign", campaign_id=campaign.id))
