"""Shared builders for the campaign sending, tracking and engine tests."""

from core.customers.models import ContactPoint, Customer
from core.database import set_setting
from core.extensions import db
from modules.marketing.models.campaigns import Campaign
from modules.marketing.models.segments import Segment, SegmentMember


def customer(n: int, *, email: bool = True, sms: bool = False, consent_email: bool = True,
             consent_sms: bool = False, first: str = "") -> Customer:
    c = Customer(kind="person", display_name=f"مشتری {n}", first_name=first or f"نام{n}",
                 last_name="", custom={}, search_key="", consent_email=consent_email,
                 consent_sms=consent_sms)
    if email:
        c.contacts.append(ContactPoint(kind="email", value=f"user{n}@example.ir", primary=True))
    if sms:
        c.contacts.append(ContactPoint(kind="mobile", value=f"+98912{n:07d}", primary=True))
    db.session.add(c)
    return c


def static_segment(customers, name="لیست") -> Segment:
    seg = Segment(name=name, kind="static", rules={})
    db.session.add(seg)
    db.session.flush()
    for c in customers:
        db.session.add(SegmentMember(segment_id=seg.id, customer_id=c.id))
    db.session.flush()
    return seg


def campaign(segment, **values) -> Campaign:
    fields = {"name": "حراج", "channel": "email", "subject": "سلام {{ first_name }}",
              "body_text": "سلام {{ first_name }}، حراج پاییزه!",
              "body_html": '<p>سلام {{ first_name }}</p><p><a href="https://shop.example.ir/sale?x=1&amp;y=2">خرید</a></p>',
              "status": "draft", "segment_id": segment.id, "ab_test": False, "subject_b": "",
              "body_text_b": "", "ab_percent": 20, "ab_metric": "open", "ab_wait_hours": 4,
              "ab_winner": "", "cost": 0, "attribution_days": 30, "total": 0, "sent_count": 0}
    fields.update(values)
    c = Campaign(**fields)
    db.session.add(c)
    db.session.flush()
    return c


def use_smtp(server) -> None:
    for key, value in {"host": server.host, "port": server.port, "tls": "none",
                       "from": "پیوند <crm@peyvand.test>"}.items():
        set_setting(f"smtp.{key}", value)
    set_setting("marketing.base_url", "https://crm.example.ir")
