"""Marketing on the customer record: timeline entries, merge and anonymise handlers, dashboard
widgets and the demo data step."""

from flask import Flask, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from core import jobs
from core.customers.timeline import TimelineEntry
from core.extensions import db
from modules.marketing import segments
from modules.marketing.models.automations import Automation, AutomationSend
from modules.marketing.models.campaigns import Campaign, Recipient, TrackingEvent
from modules.marketing.models.leads import Lead
from modules.marketing.models.segments import SegmentMember


def register(app: Flask) -> None:
    """Wire the customer hooks, the widgets and the demo step."""
    from core.customers.anonymise import add_anonymise_handler
    from core.customers.merge import add_merge_handler
    from core.customers.timeline import add_provider
    from core.demo import add_demo_step
    from modules.marketing import demo, widgets

    add_provider(app, marketing_entries)
    add_merge_handler(app, move_on_merge)
    add_anonymise_handler(app, forget_customer)
    widgets.register(app)
    add_demo_step(app, "marketing", demo.load_marketing, order=110)
    jobs.periodic("marketing.recount_segments", segments.RECOUNT_EVERY_SECONDS,
                  run_recount_segments)


@jobs.job(module="marketing")
def run_recount_segments() -> int:
    """The worker recounts stale segment counts, so the segment list never counts."""
    return segments.recount_stale_segments()


def marketing_entries(customer) -> list[TimelineEntry]:
    """Campaigns received, opened, clicked, unsubscribed; automation messages."""
    from core.auth.permissions import has_permission

    if not has_permission("marketing.view"):
        return []
    entries = []
    rows = db.session.execute(select(Recipient, Campaign.name).join(
        Campaign, Campaign.id == Recipient.campaign_id).where(
        Recipient.customer_id == customer.id, Recipient.sent_at.is_not(None))
        .order_by(Recipient.sent_at.desc()).limit(100)).all()
    for recipient, name in rows:
        url = url_for("marketing.campaign", campaign_id=recipient.campaign_id)
        for at, kind, title in (
                (recipient.sent_at, "campaign", _("Received campaign %(name)s", name=name)),
                (recipient.opened_at, "campaign_open", _("Opened campaign %(name)s", name=name)),
                (recipient.clicked_at, "campaign_click",
                 _("Clicked a link in campaign %(name)s", name=name)),
                (recipient.unsubscribed_at, "unsubscribe",
                 _("Unsubscribed from campaign %(name)s", name=name))):
            if at is not None:
                entries.append(TimelineEntry(at=at, kind=kind, title=title, url=url,
                                             module="marketing"))
    sends = db.session.execute(select(AutomationSend, Automation.name).join(
        Automation, Automation.id == AutomationSend.automation_id).where(
        AutomationSend.customer_id == customer.id, AutomationSend.status == "sent")
        .order_by(AutomationSend.sent_at.desc()).limit(100)).all()
    for send, name in sends:
        entries.append(TimelineEntry(
            at=send.sent_at, kind="automation", module="marketing",
            title=_("Automatic message: %(name)s", name=name),
            url=url_for("marketing.automation_log", automation_id=send.automation_id)))
    return entries


def _merge_recipients(survivor_id: int, loser_id: int) -> None:
    """Where both got a campaign, keep the survivor's row with the loser's tracking added."""
    mine = {r.campaign_id: r for r in db.session.execute(
        select(Recipient).where(Recipient.customer_id == survivor_id)).scalars()}
    for theirs in db.session.execute(
            select(Recipient).where(Recipient.customer_id == loser_id)).scalars().all():
        keep = mine.get(theirs.campaign_id)
        if keep is None:
            theirs.customer_id = survivor_id
            continue
        for name in ("sent_at", "opened_at", "clicked_at", "bounced_at", "unsubscribed_at"):
            a, b = getattr(keep, name), getattr(theirs, name)
            if a is None or (b is not None and b < a):
                setattr(keep, name, b)
        keep.opens += theirs.opens or 0
        keep.clicks += theirs.clicks or 0
        db.session.execute(update(TrackingEvent).where(TrackingEvent.recipient_id == theirs.id)
                           .values(recipient_id=keep.id))
        db.session.delete(theirs)
    db.session.flush()


def move_on_merge(survivor_id: int, loser_id: int) -> None:
    """Customer merge handler: recipients, list members, leads and automation sends follow."""
    _merge_recipients(survivor_id, loser_id)
    segments = select(SegmentMember.segment_id).where(SegmentMember.customer_id == survivor_id)
    db.session.execute(delete(SegmentMember).where(
        SegmentMember.customer_id == loser_id, SegmentMember.segment_id.in_(segments)))
    db.session.execute(update(SegmentMember).where(SegmentMember.customer_id == loser_id)
                       .values(customer_id=survivor_id))
    db.session.execute(update(Lead).where(Lead.customer_id == loser_id)
                       .values(customer_id=survivor_id))
    taken = select(AutomationSend.automation_id, AutomationSend.period).where(
        AutomationSend.customer_id == survivor_id)
    pairs = set(db.session.execute(taken).all())
    for send in db.session.execute(select(AutomationSend).where(
            AutomationSend.customer_id == loser_id)).scalars().all():
        if (send.automation_id, send.period) in pairs:
            db.session.delete(send)
        else:
            send.customer_id = survivor_id
    db.session.flush()


def forget_customer(customer_id: int) -> None:
    """Anonymise handler: blank the addresses the customer's campaigns were sent to."""
    db.session.execute(update(Recipient).where(Recipient.customer_id == customer_id)
                       .values(address="", error="")
                       .execution_options(synchronize_session=False))
