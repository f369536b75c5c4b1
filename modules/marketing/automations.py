"""Automations: welcome series, birthday and anniversary, Jalali occasions, win-back.

A periodic job runs every active automation. Each message goes once per (automation,
customer, period): the ``AutomationSend`` row is inserted first (its unique key refuses a
second one, even from a concurrent run) and the message is queued through
``core.messaging`` with an idempotency key in the same transaction. Periods: welcome
``welcome-<step>``; birthday, anniversary and occasions the Jalali year; win-back the Tehran
day of the send, and nobody gets it again within ``delay_days``. Customers without consent
for the channel, without an address or anonymised are skipped (no row: they may get it once
they consent); an opted-out address gives a "suppressed" row.
"""

from datetime import datetime, timedelta

import jdatetime
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import jobs
from core.database import utcnow
from core.extensions import db
from core.i18n import to_tehran
from modules.marketing.models.automations import Automation, AutomationSend

EVERY_SECONDS = 3600
WELCOME_CATCH_UP_DAYS = 3  # a welcome still goes if the job was down this long
COMMIT_EVERY = 200
WINBACK_SEGMENT = "at_risk"  # core.analytics.rfm.SEGMENTS key
KIND_LABELS = {"welcome": _l("Welcome series"), "birthday": _l("Birthday"),
               "anniversary": _l("Anniversary"), "occasion": _l("Occasion"),
               "winback": _l("Win-back")}
# Fixed Jalali dates to pick from (month, day).
OCCASIONS = ((_l("Nowruz"), 1, 1), (_l("Nature day (Sizdah Bedar)"), 1, 13),
             (_l("Yalda night"), 9, 30), (_l("Teacher's day"), 2, 12),
             (_l("Engineer's day"), 12, 5))


def register(app: Flask) -> None:
    """Schedule the automation job."""
    jobs.periodic("marketing.automations", EVERY_SECONDS, run_automations_job)


@jobs.job(module="marketing")
def run_automations_job() -> dict[int, int]:
    """The periodic entry point."""
    return run_all()


def run_all(now: datetime | None = None) -> dict[int, int]:
    """Run every active automation (welcome steps in order); {automation id: messages sent}."""
    now = now or utcnow()
    autos = db.session.execute(select(Automation).where(Automation.active.is_(True))
                               .order_by(Automation.kind, Automation.step, Automation.id)
                               ).scalars().all()
    return {a.id: run_automation(a, now) for a in autos}


def jalali_today(now: datetime) -> jdatetime.date:
    """Today's Jalali date in Tehran."""
    return jdatetime.date.fromgregorian(date=to_tehran(now).date())


def period_for(automation: Automation, now: datetime) -> str:
    """The period a send of ``automation`` at ``now`` belongs to."""
    if automation.kind == "welcome":
        return f"welcome-{automation.step}"
    if automation.kind == "winback":
        return to_tehran(now).date().isoformat()
    return str(jalali_today(now).year)


def _customers():
    from core.customers.models import Customer

    return select(Customer.id).where(Customer.anonymised_at.is_(None))


def _same_day(value, today: jdatetime.date) -> bool:
    """Whether the Gregorian ``value`` falls on today's Jalali month and day (Esfand 30 on
    Esfand 29 in a common year)."""
    j = jdatetime.date.fromgregorian(date=value)
    if (j.month, j.day) == (today.month, today.day):
        return True
    return (j.month, j.day) == (12, 30) and (today.month, today.day) == (12, 29) \
        and not today.isleap()


def candidate_ids(automation: Automation, now: datetime) -> list[int]:
    """The customers ``automation`` is due for at ``now`` (before consent and dedup)."""
    from core.analytics.models import CustomerScore
    from core.customers.models import Customer

    kind, today = automation.kind, jalali_today(now)
    stmt = _customers()
    if kind == "welcome":
        due = now - timedelta(days=max(automation.delay_days or 0, 0))
        stmt = stmt.where(Customer.created_at <= due,
                          Customer.created_at > due - timedelta(days=WELCOME_CATCH_UP_DAYS))
    elif kind in ("birthday", "anniversary"):
        column = getattr(Customer, kind)
        rows = db.session.execute(stmt.add_columns(column).where(column.is_not(None))).all()
        ids = [cid for cid, value in rows if _same_day(value, today)]
        return _in_segment(automation, ids)
    elif kind == "occasion":
        if (automation.occasion_month, automation.occasion_day) != (today.month, today.day):
            return []
    elif kind == "winback":
        stmt = stmt.where(Customer.id.in_(select(CustomerScore.customer_id).where(
            CustomerScore.segment == WINBACK_SEGMENT)))
        since = now - timedelta(days=max(automation.delay_days or 0, 1))
        stmt = stmt.where(Customer.id.not_in(select(AutomationSend.customer_id).where(
            AutomationSend.automation_id == automation.id, AutomationSend.sent_at > since)))
    else:
        return []
    return _in_segment(automation, list(db.session.execute(stmt).scalars()))


def _in_segment(automation: Automation, ids: list[int]) -> list[int]:
    """Keep the customers of the automation's segment, when it names one."""
    if not automation.segment_id or not ids:
        return ids
    from modules.marketing.models.segments import Segment, SegmentMember

    segment = db.session.get(Segment, automation.segment_id)
    if segment is None:
        return ids
    try:
        from modules.marketing.segments import segment_customer_ids
    except ImportError:  # the segment engine is not there: static lists only
        members = set(db.session.execute(select(SegmentMember.customer_id).where(
            SegmentMember.segment_id == segment.id)).scalars())
    else:
        members = set(db.session.execute(segment_customer_ids(segment, None)).scalars())
    return [i for i in ids if i in members]


def _address(customer, channel: str) -> str | None:
    if channel == "email":
        return customer.email if customer.consent_email else None
    return customer.mobile if customer.consent_sms else None


def run_automation(automation: Automation, now: datetime | None = None) -> int:
    """Send what ``automation`` owes today; returns how many messages were queued."""
    from core.customers.models import Customer

    now = now or utcnow()
    period = period_for(automation, now)
    done = set(db.session.execute(select(AutomationSend.customer_id).where(
        AutomationSend.automation_id == automation.id,
        AutomationSend.period == period)).scalars())
    sent = claimed = 0
    for customer_id in candidate_ids(automation, now):
        if customer_id in done:
            continue
        customer = db.session.get(Customer, customer_id)
        address = _address(customer, automation.channel) if customer else None
        if not address:
            continue
        row = _claim(automation, customer_id, period, now)
        if row is not None:
            sent += _send(automation, customer, address, row)
            claimed += 1
            if claimed % COMMIT_EVERY == 0:  # rows and their messages commit together
                db.session.commit()
    automation.last_run_at = now
    db.session.commit()
    return sent


def _claim(automation: Automation, customer_id: int, period: str,
           now: datetime) -> AutomationSend | None:
    """Insert the send row first; None when another run already has it."""
    row = AutomationSend(automation_id=automation.id, customer_id=customer_id, period=period,
                         status="sent", sent_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None
    return row


def _send(automation: Automation, customer, address: str, row: AutomationSend) -> int:
    """Queue the personalised message; the row says whether it went."""
    from core import messaging
    from modules.marketing.personalise import context_for, render

    context = context_for(customer)
    text = render(automation.body_text, context)
    key = f"marketing.automation:{automation.id}:{customer.id}:{row.period}"
    ckey = f"customer:{customer.id}"
    try:
        with db.session.begin_nested():
            if automation.channel == "email":
                message = messaging.send_email(
                    address, render(automation.subject, context) or automation.name,
                    text=text, customer_key=ckey, key=key)
            else:
                message = messaging.send_sms(address, text, customer_key=ckey, key=key)
    except ValueError:  # a malformed stored address: logged as failed, the run goes on
        row.status = "failed"
        return 0
    if message is None:
        row.status = "suppressed"
        return 0
    row.outbox_id = message.id
    return 1


def sent_counts(ids: list[int]) -> dict[int, int]:
    """How many messages each automation has sent, by id."""
    if not ids:
        return {}
    return dict(db.session.execute(
        select(AutomationSend.automation_id, func.count()).where(
            AutomationSend.automation_id.in_(ids), AutomationSend.status == "sent")
        .group_by(AutomationSend.automation_id)).all())
