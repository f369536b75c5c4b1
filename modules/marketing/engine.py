"""Campaign services for the UI: start (freeze the audience), schedule, pause, resume, cancel,
progress, test send and statistics. Callers commit; sending itself is in ``sending``."""

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import case, func, insert, literal, select, update

from core import jobs
from core.customers.models import ContactPoint, Customer
from core.database import utcnow
from core.extensions import db
from core.messaging import OptOut, send_email, send_sms
from modules.marketing import mime, personalise
from modules.marketing.models.campaigns import Campaign, Recipient
from modules.marketing.models.segments import Segment

CONTACT_KIND = {"email": "email", "sms": "mobile"}


class EngineError(ValueError):
    """The campaign cannot do that now; the message says why."""


def _audience(segment: Segment, channel: str):
    """Ids of the segment's consenting members on ``channel`` (the segments helper's query)."""
    try:
        from modules.marketing.segments import segment_customer_ids
    except ImportError:  # pragma: no cover - before the segments module existed
        return _fallback_audience(segment, channel)
    return segment_customer_ids(segment, channel)


def _fallback_audience(segment: Segment, channel: str):
    from sqlalchemy import exists

    from modules.marketing.models.segments import SegmentMember

    flag = Customer.consent_email if channel == "email" else Customer.consent_sms
    stmt = select(Customer.id).where(flag.is_(True), Customer.anonymised_at.is_(None),
                                     _address(channel).is_not(None))
    if segment.kind == "static":
        stmt = stmt.where(exists().where(SegmentMember.segment_id == segment.id,
                                         SegmentMember.customer_id == Customer.id))
    return stmt


def _address(channel: str):
    """The customer's first contact of the channel's kind that is not opted out (a subquery)."""
    return (select(ContactPoint.value)
            .where(ContactPoint.customer_id == Customer.id,
                   ContactPoint.kind == CONTACT_KIND[channel],
                   ~select(OptOut.id).where(OptOut.channel == channel,
                                            OptOut.address == ContactPoint.value).exists())
            .order_by(ContactPoint.primary.desc(), ContactPoint.id).limit(1)
            .correlate(Customer).scalar_subquery())


def _random_token():
    """A random 32-hex token computed by the database, per row."""
    if db.engine.dialect.name == "postgresql":
        return func.md5(func.random().cast(db.String) + func.clock_timestamp().cast(db.String)
                        + func.gen_random_uuid().cast(db.String))
    return func.lower(func.hex(func.randomblob(16)))


def validate(campaign: Campaign) -> None:
    """Refuse a campaign that cannot be sent, with a clear message."""
    if campaign.status not in ("draft", "scheduled"):
        raise EngineError(_("Only a draft or scheduled campaign can be started."))
    if campaign.segment_id is None:
        raise EngineError(_("Choose a segment first."))
    if campaign.channel == "email" and not campaign.subject.strip():
        raise EngineError(_("The email needs a subject."))
    if not (campaign.body_text or "").strip() and not (campaign.body_html or "").strip():
        raise EngineError(_("Write the message first."))
    for text in (campaign.subject, campaign.body_text, campaign.body_html, campaign.subject_b,
                 campaign.body_text_b):
        try:
            personalise.check(text or "")
        except personalise.PersonaliseError as error:
            raise EngineError(str(error)) from error


def start(campaign: Campaign, by=None, *, dispatch: bool = True) -> int:
    """Freeze the audience (one INSERT…SELECT), assign A/B variants, mark it sending."""
    validate(campaign)
    segment = db.session.get(Segment, campaign.segment_id)
    if segment is None:
        raise EngineError(_("The campaign's segment no longer exists."))
    ids = _audience(segment, campaign.channel).subquery()
    rows = (select(literal(campaign.id), Customer.id,
                   func.coalesce(_address(campaign.channel), ""),
                   literal("a"), literal("pending"), _random_token(), literal(0), literal(0),
                   literal(""))
            .where(Customer.id.in_(select(ids.c[0]))))
    db.session.execute(insert(Recipient).from_select(
        ["campaign_id", "customer_id", "address", "variant", "status", "token", "opens",
         "clicks", "error"], rows))
    db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id,
                                               Recipient.address == "")
                       .values(status="skipped").execution_options(synchronize_session=False))
    total = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id))
    if campaign.ab_test:
        _assign_variants(campaign, total)
    if campaign.channel == "email" and campaign.body_html:
        mime.prepare(campaign)  # register links and remember the base URL now
    campaign.total, campaign.status = total, "sending"
    campaign.started_at, campaign.ab_winner = utcnow(), ""
    db.session.flush()
    if dispatch:
        from modules.marketing import sending

        jobs.enqueue(sending.send_job, campaign.id)
    return total


def _assign_variants(campaign: Campaign, total: int) -> None:
    """A random ``ab_percent`` gets a/b half each; the rest waits for the winner (variant "")."""
    tested = max(2, round(total * max(0, min(campaign.ab_percent, 100)) / 100)) if total else 0
    ordered = (select(Recipient.id).where(Recipient.campaign_id == campaign.id)
               .order_by(Recipient.token))
    b_ids = select(ordered.limit(tested // 2).subquery().c.id)
    test_ids = select(ordered.limit(tested).subquery().c.id)
    scope = (Recipient.campaign_id == campaign.id,)
    db.session.execute(update(Recipient).where(*scope).values(variant=case(
        (Recipient.id.in_(b_ids), "b"), (Recipient.id.in_(test_ids), "a"), else_=""))
        .execution_options(synchronize_session=False))


def schedule(campaign: Campaign, when_utc: datetime) -> None:
    """Send later: the periodic job starts it at ``when_utc``."""
    if campaign.status not in ("draft", "scheduled"):
        raise EngineError(_("Only a draft campaign can be scheduled."))
    if when_utc <= utcnow():
        raise EngineError(_("Choose a time in the future."))
    validate(campaign)
    campaign.scheduled_at, campaign.status = when_utc, "scheduled"


def pause(campaign: Campaign) -> None:
    """Stop claiming recipients (messages already queued still go out)."""
    if campaign.status != "sending":
        raise EngineError(_("Only a campaign that is sending can be paused."))
    campaign.status = "paused"


def resume(campaign: Campaign, *, dispatch: bool = True) -> None:
    """Go on sending where it stopped."""
    if campaign.status != "paused":
        raise EngineError(_("Only a paused campaign can be resumed."))
    campaign.status = "sending"
    db.session.flush()
    if dispatch:
        from modules.marketing import sending

        jobs.enqueue(sending.send_job, campaign.id)


def cancel(campaign: Campaign) -> None:
    """Stop for good: recipients not yet queued are skipped."""
    if campaign.status in ("sent", "cancelled"):
        raise EngineError(_("This campaign has already finished."))
    if campaign.status in ("draft", "scheduled"):
        campaign.scheduled_at = None
    db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id,
                                               Recipient.status == "pending")
                       .values(status="skipped").execution_options(synchronize_session=False))
    campaign.status, campaign.finished_at = "cancelled", utcnow()


def progress(campaign: Campaign) -> dict:
    """Live counters: total, sent, failed, suppressed, pending and the percent done."""
    return progress_of([campaign.id])[campaign.id]


def progress_of(campaign_ids: list[int]) -> dict[int, dict]:
    """``progress`` of several campaigns (a list page) in one grouped query."""
    counts: dict[int, dict] = {cid: {} for cid in campaign_ids}
    if campaign_ids:
        for cid, status, n in db.session.execute(
                select(Recipient.campaign_id, Recipient.status, func.count())
                .where(Recipient.campaign_id.in_(campaign_ids))
                .group_by(Recipient.campaign_id, Recipient.status)):
            counts[cid][status] = n
    return {cid: _progress(found) for cid, found in counts.items()}


def _progress(counts: dict) -> dict:
    total = sum(counts.values())
    sent = sum(counts.get(s, 0) for s in ("queued", "sent", "delivered"))
    failed = counts.get("failed", 0) + counts.get("bounced", 0)
    suppressed = counts.get("suppressed", 0) + counts.get("skipped", 0)
    pending = counts.get("pending", 0)
    done = total - pending
    return {"total": total, "sent": sent, "failed": failed, "suppressed": suppressed,
            "pending": pending, "percent": round(100 * done / total) if total else 100,
            "by_status": counts}


def test_send(campaign: Campaign, to_address: str, by=None) -> bool:
    """One message to ``to_address`` for a sample member (or the user); never counted."""
    sample = None
    segment = db.session.get(Segment, campaign.segment_id) if campaign.segment_id else None
    if segment is not None:
        first = db.session.scalar(_audience(segment, campaign.channel).limit(1))
        sample = db.session.get(Customer, first) if first else None
    context = personalise.context_for(sample)
    if sample is None and by is not None:
        context = {"first_name": getattr(by, "name", "") or "", "display_name":
                   getattr(by, "name", "") or "", "email": getattr(by, "email", "") or ""}
    content = mime.prepare(campaign)
    if campaign.channel == "sms":
        return send_sms(to_address, mime.sms_text(content, context, "a", None)) is not None
    subject, text, html, headers = mime.email_parts(content, context, "a", None)
    return send_email(to_address, _("[Test] %(subject)s", subject=subject), text=text,
                      html=html) is not None


def stats(campaign: Campaign) -> dict:
    """Delivered, bounced, opens, unique opens, clicks, unique clicks, unsubscribes; per variant."""
    r = Recipient

    def count_of(cond):
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    columns = (
        count_of(r.status.in_(("queued", "sent", "delivered", "failed", "bounced"))),
        count_of(r.status == "delivered"), count_of(r.status == "bounced"),
        count_of(r.status == "failed"), func.coalesce(func.sum(r.opens), 0),
        count_of(r.opened_at.is_not(None)), func.coalesce(func.sum(r.clicks), 0),
        count_of(r.clicked_at.is_not(None)), count_of(r.unsubscribed_at.is_not(None)))
    names = ("sent", "delivered", "bounced", "failed", "opens", "unique_opens", "clicks",
             "unique_clicks", "unsubscribes")
    rows = db.session.execute(select(r.variant, *columns).where(r.campaign_id == campaign.id)
                              .group_by(r.variant)).all()
    variants = {row[0] or "-": dict(zip(names, map(int, row[1:]), strict=True)) for row in rows}
    overall = {n: sum(v[n] for v in variants.values()) for n in names}
    for values in (overall, *variants.values()):
        sent = values["sent"] or 0
        values["open_rate"] = values["unique_opens"] / sent if sent else 0.0
        values["click_rate"] = values["unique_clicks"] / sent if sent else 0.0
    return {**overall, "variants": variants}
