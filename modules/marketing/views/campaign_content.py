"""What the campaign pages show: progress, results, a sample member and the message as sent."""

from flask import request
from sqlalchemy import select

from core.customers.models import Customer
from core.database import get_setting
from core.extensions import db
from modules.marketing import engine, personalise
from modules.marketing.models.campaigns import Campaign
from modules.marketing.models.segments import Segment

SAMPLE_TOKEN = "0" * 32  # as long as a real tracking token, so the SMS length is the real one


def progress(campaign: Campaign) -> dict:
    """Totals of the campaign's recipients (total, sent, failed, suppressed, pending, percent)."""
    return engine.progress(campaign)


def stats(campaign: Campaign) -> dict:
    """Delivered, opens, clicks, bounces, unsubscribes; per variant."""
    return engine.stats(campaign)


def sample_customer(campaign: Campaign) -> Customer | None:
    """A customer of the campaign's segment to preview with (any customer without one)."""
    from modules.marketing.segments import members

    segment = db.session.get(Segment, campaign.segment_id) if campaign.segment_id else None
    if segment is not None:
        customer = db.session.execute(members(segment, campaign.channel).limit(1)).scalar()
        if customer is not None:
            return customer
        return db.session.execute(members(segment).limit(1)).scalar()
    return db.session.execute(select(Customer).where(Customer.anonymised_at.is_(None))
                              .order_by(Customer.id).limit(1)).scalar()


def preview(campaign: Campaign, variant: str, customer: Customer | None) -> dict:
    """Subject, text and full HTML as the customer would get them, without writing anything."""
    from core.messaging.email import render_html
    from modules.marketing import mime

    content = mime.Content(campaign, request.host_url.rstrip("/"), {},
                           get_setting("display.language") or "fa")
    context = personalise.context_for(customer)
    if campaign.channel == "sms":
        return {"subject": "", "text": mime.sms_text(content, context, variant, SAMPLE_TOKEN),
                "html": ""}
    subject, text, html, _headers = mime.email_parts(content, context, variant, None)
    return {"subject": subject, "text": text,
            "html": render_html(subject, text=text, html=html, language=content.language)}
