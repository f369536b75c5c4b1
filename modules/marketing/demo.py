"""Marketing demo data: two segments, a sent campaign with opens and clicks, leads, automations
(off) and competitors. Idempotent: everything is found by name and added only when missing."""

import secrets
from datetime import timedelta

import jdatetime
from sqlalchemy import select

from core.database import utcnow
from core.extensions import db
from core.i18n import normalize

CAMPAIGN = "جشنواره نوروزی"
SEGMENTS = (("مشتریان تهران", "dynamic",
             {"match": "all", "rules": [{"field": "city", "op": "is", "value": "تهران"}]}),
            ("فهرست مشتریان ویژه", "static", {}))
LEADS = (("سمیرا نادری", "09125550101", "nowruz", "new", 10),
         ("کامران شریفی", "09125550102", "nowruz", "working", 35),
         ("شرکت آریا تجارت", "09125550103", "", "qualified", 60),
         ("نگار فرهادی", "09125550104", "yalda", "new", 5))
AUTOMATIONS = (("خوش‌آمدگویی", "welcome", {"delay_days": 0},
                "{{ first_name|default('مشتری') }} عزیز، به باشگاه ما خوش آمدید."),
               ("تبریک تولد", "birthday", {}, "{{ first_name }} عزیز، تولدتان مبارک!"),
               ("تبریک نوروز", "occasion", {"occasion_month": 1, "occasion_day": 1},
                "نوروزتان پیروز {{ first_name }} عزیز"),
               ("شب یلدا", "occasion", {"occasion_month": 9, "occasion_day": 30},
                "یلدایتان خوش؛ ده درصد تخفیف تا آخر هفته."),
               ("بازگشت مشتریان", "winback", {"delay_days": 90},
                "{{ first_name }} عزیز، دلمان برایتان تنگ شده؛ کد تخفیف: BACK10"))
COMPETITORS = (("دیجی‌کالا", "https://www.digikala.com", "تنوع کالا و ارسال سریع",
                (("لپ‌تاپ ایسوس X515", 285_000_000), ("چاپگر HP 107a", 98_000_000))),
               ("تکنولایف", "https://www.technolife.ir", "قیمت رقابتی",
                (("لپ‌تاپ ایسوس X515", 279_000_000),)))


def load_marketing(ctx) -> None:
    """The demo step (after customers and sales)."""
    from modules.marketing.models.segments import Segment

    for name, kind, rules in SEGMENTS:
        if db.session.execute(select(Segment.id).where(Segment.name == name)).first() is None:
            db.session.add(Segment(name=name, kind=kind, rules=rules))
            ctx.notes.append(f"segment {name} created")
    db.session.flush()
    _campaign(ctx)
    _leads(ctx)
    _automations(ctx)
    _competitors(ctx)
    db.session.commit()


def _campaign(ctx) -> None:
    from core.customers.models import Customer
    from modules.marketing.models.campaigns import Campaign, Recipient
    from modules.marketing.models.segments import Segment

    if db.session.execute(select(Campaign.id).where(Campaign.name == CAMPAIGN)).first():
        return
    segment = db.session.execute(select(Segment).where(Segment.name == SEGMENTS[1][0])).scalar()
    customers = db.session.execute(select(Customer).where(Customer.anonymised_at.is_(None))
                                   .order_by(Customer.id).limit(20)).scalars().all()
    sent = utcnow() - timedelta(days=12)
    campaign = Campaign(name=CAMPAIGN, channel="sms", status="sent", segment_id=segment.id,
                        body_text="{{ first_name }} عزیز، جشنواره نوروزی با ۲۰٪ تخفیف آغاز شد.",
                        cost=15_000_000, attribution_days=30, started_at=sent,
                        finished_at=sent + timedelta(minutes=20), total=len(customers),
                        sent_count=len(customers))
    db.session.add(campaign)
    db.session.flush()
    for i, customer in enumerate(customers):
        opened = sent + timedelta(hours=i + 1) if i % 2 == 0 else None
        clicked = sent + timedelta(hours=i + 2) if i % 4 == 0 else None
        db.session.add(Recipient(
            campaign_id=campaign.id, customer_id=customer.id, address=customer.mobile or "",
            status="delivered", token=secrets.token_hex(16), sent_at=sent, opened_at=opened,
            clicked_at=clicked, opens=int(opened is not None), clicks=int(clicked is not None)))
    ctx.notes.append(f"campaign {CAMPAIGN} with {len(customers)} recipients")


def _leads(ctx) -> None:
    from modules.marketing.models.campaigns import Campaign
    from modules.marketing.models.leads import Lead

    campaign_id = db.session.execute(select(Campaign.id).where(Campaign.name == CAMPAIGN)
                                     ).scalar()
    agent = ctx.users.get("ali.rezaei@peyvand.local")
    now = utcnow()
    for i, (name, mobile, utm, status, score) in enumerate(LEADS):
        mobile = "+98" + mobile[1:]
        if db.session.execute(select(Lead.id).where(Lead.mobile == mobile)).first():
            continue
        db.session.add(Lead(
            name=name, mobile=mobile, source="campaign" if utm else "form", utm_source="sms",
            utm_campaign=utm, campaign_id=campaign_id if utm == "nowruz" else None,
            status=status, score=score, consent_sms=True, search_key=normalize(name),
            owner_id=agent.id if agent else None, team_id=agent.team_id if agent else None,
            created_at=now - timedelta(days=i + 1), last_activity_at=now - timedelta(days=i)))
        ctx.notes.append(f"lead {name}")


def _automations(ctx) -> None:
    from modules.marketing.models.automations import Automation

    for name, kind, fields, text in AUTOMATIONS:
        if db.session.execute(select(Automation.id).where(Automation.name == name)).first():
            continue
        db.session.add(Automation(name=name, kind=kind, active=False, channel="sms",
                                  body_text=text, **fields))
        ctx.notes.append(f"automation {name} (off)")


def _competitors(ctx) -> None:
    from modules.marketing.models.competitors import Competitor, CompetitorProduct, MarketNote

    today = jdatetime.date.today().togregorian()
    for name, site, strengths, products in COMPETITORS:
        if db.session.execute(select(Competitor.id).where(Competitor.name == name)).first():
            continue
        competitor = Competitor(name=name, website=site, strengths=strengths)
        competitor.products = [CompetitorProduct(name=p, price=price, seen_on=today)
                               for p, price in products]
        db.session.add(competitor)
        db.session.flush()
        db.session.add(MarketNote(title=f"قیمت‌های {name}", competitor_id=competitor.id,
                                  body="قیمت‌ها در هفته گذشته حدود پنج درصد بالا رفت."))
        ctx.notes.append(f"competitor {name}")
