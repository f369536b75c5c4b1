"""The campaign send job: claims recipients in batches and queues their messages, once each.

A batch is one transaction: rows go pending → queued (or suppressed) together with their
outbox messages (idempotency key per recipient). A worker killed mid-batch leaves the rows
pending with no message (the next run sends them); after the commit the outbox relay owns
delivery. The job honours pause, quiet hours (Tehran time), the per-minute throttle, and A/B.
"""

import os
import time
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from core import jobs
from core.customers.models import Customer
from core.database import get_setting, lock, utcnow
from core.extensions import db
from core.i18n import to_tehran
from core.messaging import MessageLog, send_email, send_sms
from modules.marketing import mime, personalise
from modules.marketing.models.campaigns import Campaign, Recipient

BATCH = 200


def in_quiet_hours(campaign: Campaign, now: datetime) -> datetime | None:
    """The UTC time quiet hours end, when ``now`` is inside them; else None."""
    start, end = campaign.quiet_start, campaign.quiet_end
    if start is None or end is None or start == end:
        return None
    local = to_tehran(now)
    minute = local.hour * 60 + local.minute
    quiet = start <= minute < end if start < end else (minute >= start or minute < end)
    if not quiet:
        return None
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    until = midnight + timedelta(minutes=end)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(now.tzinfo)


def throttle_budget(campaign: Campaign, now: datetime) -> int | None:
    """How many more messages may go on the campaign's channel this minute (None: no limit)."""
    limit = campaign.throttle_per_minute or get_setting(f"marketing.throttle.{campaign.channel}") \
        or current_app.config.get("MARKETING_THROTTLE_PER_MINUTE", {}).get(campaign.channel)
    if not limit:
        return None
    recent = db.session.scalar(
        select(func.count()).select_from(Recipient).join(Campaign)
        .where(Campaign.channel == campaign.channel,
               Recipient.queued_at > now - timedelta(minutes=1)))
    return max(0, int(limit) - recent)


def _claim(campaign_id: int, variants: tuple[str, ...], limit: int) -> list[Recipient]:
    stmt = (select(Recipient.id).where(Recipient.campaign_id == campaign_id,
                                       Recipient.status == "pending",
                                       Recipient.variant.in_(variants))
            .order_by(Recipient.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    else:
        lock(f"marketing.send.{campaign_id}")
    ids = list(db.session.execute(stmt).scalars())
    if not ids:
        return []
    return list(db.session.execute(select(Recipient).where(Recipient.id.in_(ids))
                                   .order_by(Recipient.id)).scalars())


def send_batch(campaign_id: int, limit: int = BATCH, variants: tuple[str, ...] = ("a", "b"),
               content: mime.Content | None = None) -> int:
    """Claim up to ``limit`` pending recipients and queue their messages; commits. How many."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "sending":
        db.session.rollback()
        return 0
    content = content or mime.prepare(campaign)
    rows = _claim(campaign_id, variants, limit)
    if not rows:
        db.session.commit()
        return 0
    customers = {c.id: c for c in db.session.execute(
        select(Customer).where(Customer.id.in_([r.customer_id for r in rows]))
        .options(selectinload(Customer.contacts), selectinload(Customer.addresses))).scalars()}
    slow = float(os.environ.get("CRM_MARKETING_SLOW_SEND", "0") or 0)  # tests: kill mid-batch
    now, queued = utcnow(), 0
    for row in rows:
        if slow:
            time.sleep(slow)
        message = _send_one(campaign, content, row, customers.get(row.customer_id))
        if message is None:
            row.status = "suppressed"
        else:
            row.status, row.outbox_id, row.queued_at = "queued", message.id, now
            queued += 1
    campaign.sent_count = (campaign.sent_count or 0) + queued
    db.session.commit()
    return len(rows)


def _send_one(campaign: Campaign, content: mime.Content, row: Recipient, customer):
    """Queue one recipient's message; None when consent is gone (checked again now)."""
    flag = "consent_email" if campaign.channel == "email" else "consent_sms"
    if customer is None or customer.anonymised_at or not getattr(customer, flag) \
            or not row.address:
        return None
    context = personalise.context_for(customer)
    key, who = f"marketing:{row.id}", f"customer:{customer.id}"
    if campaign.channel == "sms":
        text = mime.sms_text(content, context, row.variant, row.token)
        return send_sms(row.address, text, customer_key=who, key=key)
    subject, text, html, headers = mime.email_parts(content, context, row.variant, row.token)
    return send_email(row.address, subject, text=text, html=html, headers=headers,
                      customer_key=who, key=key, language=content.language)


def pick_winner(campaign: Campaign) -> str:
    """The A/B variant with the better open (or click) rate; a tie goes to A."""
    from modules.marketing.engine import stats

    variants = stats(campaign)["variants"]
    metric = "click_rate" if campaign.ab_metric == "click" else "open_rate"
    rate_a = variants.get("a", {}).get(metric, 0.0)
    rate_b = variants.get("b", {}).get(metric, 0.0)
    return "b" if rate_b > rate_a else "a"


def _ab_variants(campaign: Campaign, now: datetime) -> tuple[str, ...]:
    """Which variants may be claimed now (the rest waits for the A/B winner)."""
    if not campaign.ab_test or campaign.ab_winner:
        return ("a", "b", "")
    started = campaign.started_at
    if started is not None and started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    if started is not None and now >= started + timedelta(hours=campaign.ab_wait_hours):
        campaign.ab_winner = pick_winner(campaign)
        db.session.execute(update(Recipient).where(Recipient.campaign_id == campaign.id,
                                                   Recipient.variant == "")
                           .values(variant=campaign.ab_winner)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        return ("a", "b")
    return ("a", "b")


def run(campaign_id: int, now: datetime | None = None, max_batches: int | None = None) -> dict:
    """Send what may go now: honours pause, quiet hours, throttle and A/B; commits."""
    now = now or utcnow()
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "sending":
        return {"status": campaign.status if campaign else None, "sent": 0}
    until = in_quiet_hours(campaign, now)
    if until is not None:
        return {"status": "quiet", "until": until, "sent": 0}
    variants = _ab_variants(campaign, now)
    content = mime.prepare(campaign)
    db.session.commit()
    claimed, batches = 0, 0
    while max_batches is None or batches < max_batches:
        budget = throttle_budget(campaign, now)
        if budget == 0:
            db.session.rollback()
            return {"status": "throttled", "sent": claimed}
        got = send_batch(campaign_id, min(BATCH, budget or BATCH), variants, content)
        batches += 1
        if not got:
            break
        claimed += got
    _finish_if_done(campaign_id)
    return {"status": "sending", "sent": claimed}


def _finish_if_done(campaign_id: int) -> None:
    campaign = db.session.get(Campaign, campaign_id)
    left = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign_id,
                                                        Recipient.status == "pending"))
    if campaign is not None and campaign.status == "sending" and not left:
        campaign.status, campaign.finished_at = "sent", utcnow()
    db.session.commit()


@jobs.job(module="marketing")
def send_job(campaign_id: int) -> dict:
    """Background job: send a campaign now (the periodic tick continues a throttled one)."""
    return run(campaign_id)


def sync_delivery(limit: int = 5000) -> int:
    """Copy delivery results from the message log to recipients (sent/delivered/failed/bounced)."""
    rows = db.session.execute(
        select(Recipient.id, Recipient.status, MessageLog.status, MessageLog.error)
        .join(MessageLog, MessageLog.outbox_id == Recipient.outbox_id)
        .where(Recipient.status.in_(("queued", "sent")), MessageLog.status != "queued")
        .limit(limit)).all()
    changes: dict[str, list[int]] = {}
    for rid, current, log_status, error in rows:
        new = {"sent": "sent", "delivered": "delivered", "failed": "failed",
               "suppressed": "suppressed"}.get(log_status, current)
        if new == "sent" and error and error.startswith("refused"):
            new = "bounced"
        if new != current:
            changes.setdefault(new, []).append(rid)
    now = utcnow()
    for status, ids in changes.items():
        values = {"status": status}
        if status in ("sent", "delivered"):
            values["sent_at"] = now
        if status == "bounced":
            values["bounced_at"] = now
        db.session.execute(update(Recipient).where(Recipient.id.in_(ids)).values(**values)
                           .execution_options(synchronize_session=False))
    db.session.commit()
    return sum(len(ids) for ids in changes.values())


@jobs.job(module="marketing")
def tick() -> dict:
    """Periodic: start due scheduled campaigns, continue sending ones, sync delivery results."""
    from modules.marketing import engine

    now = utcnow()
    due = db.session.execute(select(Campaign).where(Campaign.status == "scheduled",
                                                    Campaign.scheduled_at <= now)).scalars().all()
    for campaign in due:
        try:
            engine.start(campaign, dispatch=False)
            db.session.commit()
        except engine.EngineError as error:
            db.session.rollback()
            current_app.logger.warning("campaign %s not started: %s", campaign.id, error)
    ids = db.session.scalars(select(Campaign.id).where(Campaign.status == "sending")).all()
    results = {cid: run(cid, now)["status"] for cid in ids}
    synced = sync_delivery()
    return {"started": len(due), "campaigns": results, "synced": synced}


def register(app) -> None:
    """Wire the periodic job and the public tracking endpoints."""
    from modules.marketing import tracking

    app.config.setdefault("MARKETING_THROTTLE_PER_MINUTE", {})
    app.config.setdefault("MARKETING_TICK_SECONDS", 60)
    jobs.periodic("marketing.campaigns", app.config["MARKETING_TICK_SECONDS"], tick)
    tracking.init_app(app)
