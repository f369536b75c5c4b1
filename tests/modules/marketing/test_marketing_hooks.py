"""Marketing on the customer record: timeline entries, merge with overlapping recipients,
anonymise, dashboard widgets only with a seat, the demo step loaded once."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from core.database import utcnow
from core.extensions import db


def _customer(name, mobile):
    from core.customers.services import create_customer

    return create_customer(first_name=name, last_name="تست", mobiles=[mobile], consent_sms=True)


def _campaign(name, started=None):
    from modules.marketing.models.campaigns import Campaign

    campaign = Campaign(name=name, channel="sms", status="sent", started_at=started or utcnow())
    db.session.add(campaign)
    db.session.flush()
    return campaign


def _recipient(campaign, customer, token, **fields):
    from modules.marketing.models.campaigns import Recipient

    r = Recipient(campaign_id=campaign.id, customer_id=customer.id, token=token,
                  address=customer.mobile, status="sent", **fields)
    db.session.add(r)
    db.session.flush()
    return r


def test_timeline_shows_campaigns_and_automation_messages(app, client, make_user, login):
    from modules.marketing.models.automations import Automation, AutomationSend

    make_user(seats=["marketing"], locale="en")
    now = utcnow()
    with app.app_context():
        c = _customer("مریم", "09121234567")
        camp = _campaign("Autumn sale")
        _recipient(camp, c, "t1", sent_at=now - timedelta(hours=3),
                   opened_at=now - timedelta(hours=2), clicked_at=now - timedelta(hours=1),
                   unsubscribed_at=now)
        auto = Automation(name="Birthday wish", kind="birthday", body_text="x")
        db.session.add(auto)
        db.session.flush()
        db.session.add(AutomationSend(automation_id=auto.id, customer_id=c.id, period="1404"))
        db.session.commit()
        cid = c.id
    login()
    page = client.get(f"/customers/{cid}").get_data(as_text=True)
    for text in ("Received campaign Autumn sale", "Opened campaign Autumn sale",
                 "Clicked a link in campaign Autumn sale",
                 "Unsubscribed from campaign Autumn sale", "Automatic message: Birthday wish"):
        assert text in page, text


def test_merge_moves_rows_and_drops_duplicates(app):
    from core.customers.merge import merge_customers
    from core.customers.models import Customer
    from modules.marketing.models.automations import Automation, AutomationSend
    from modules.marketing.models.campaigns import Recipient, TrackingEvent
    from modules.marketing.models.leads import Lead
    from modules.marketing.models.segments import Segment, SegmentMember

    now = utcnow()
    with app.test_request_context():
        a, b = _customer("الف", "09121111111"), _customer("ب", "09122222222")
        both, only_b = _campaign("both"), _campaign("only b")
        _recipient(both, a, "a1", sent_at=now)
        rb = _recipient(both, b, "b1", sent_at=now - timedelta(hours=1),
                        opened_at=now, opens=2, clicked_at=now, clicks=1)
        db.session.add(TrackingEvent(recipient_id=rb.id, kind="open"))
        _recipient(only_b, b, "b2", sent_at=now)
        s1 = Segment(name="s1", kind="static")
        s2 = Segment(name="s2", kind="static")
        db.session.add_all([s1, s2])
        db.session.flush()
        db.session.add_all([SegmentMember(segment_id=s1.id, customer_id=a.id),
                            SegmentMember(segment_id=s1.id, customer_id=b.id),
                            SegmentMember(segment_id=s2.id, customer_id=b.id)])
        lead = Lead(name="lead", customer_id=b.id)
        auto = Automation(name="n", kind="occasion", body_text="x")
        db.session.add_all([lead, auto])
        db.session.flush()
        db.session.add_all([
            AutomationSend(automation_id=auto.id, customer_id=a.id, period="1404"),
            AutomationSend(automation_id=auto.id, customer_id=b.id, period="1404"),
            AutomationSend(automation_id=auto.id, customer_id=b.id, period="1403")])
        db.session.commit()
        a_id, b_id = a.id, b.id
        merge_customers(a, b)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(Customer, b_id) is None
        rows = db.session.execute(select(Recipient).where(Recipient.customer_id == a_id)
                                  .order_by(Recipient.campaign_id)).scalars().all()
        assert [r.campaign_id for r in rows] == [both.id, only_b.id]
        kept = rows[0]
        assert kept.token == "a1" and kept.opens == 2 and kept.clicks == 1
        assert kept.opened_at is not None and kept.clicked_at is not None
        assert db.session.execute(select(TrackingEvent.recipient_id)).scalars().all() == [kept.id]
        members = db.session.execute(select(SegmentMember.segment_id, SegmentMember.customer_id)
                                     .order_by(SegmentMember.segment_id)).all()
        assert [tuple(m) for m in members] == [(s1.id, a_id), (s2.id, a_id)]
        assert db.session.get(Lead, lead.id).customer_id == a_id
        sends = db.session.execute(select(AutomationSend.customer_id, AutomationSend.period)
                                   .order_by(AutomationSend.period)).all()
        assert [tuple(s) for s in sends] == [(a_id, "1403"), (a_id, "1404")]


def test_anonymise_blanks_recipient_addresses(app):
    from core.customers.anonymise import anonymise_customer
    from modules.marketing.models.campaigns import Recipient

    with app.test_request_context():
        c = _customer("مریم", "09121234567")
        _recipient(_campaign("x"), c, "t1", sent_at=utcnow())
        db.session.commit()
        anonymise_customer(c)
        db.session.commit()
        assert db.session.execute(select(Recipient.address)).scalars().all() == [""]


def _widget(html, name):
    found = re.search(rf'<div data-marketing-widget="{name}">.*?</div>', html, re.S)
    return found.group(0) if found else None


def test_widgets_only_with_a_marketing_seat(app, client, make_user, login):
    from modules.marketing.models.campaigns import Campaign
    from modules.marketing.models.leads import Lead

    make_user(seats=["marketing"], locale="en")
    with app.app_context():
        c = _customer("مریم", "09121234567")
        camp = _campaign("this month")
        _recipient(camp, c, "t1", sent_at=utcnow(), opened_at=utcnow())
        old = Campaign(name="old", status="sent", started_at=utcnow() - timedelta(days=70))
        db.session.add_all([old, Lead(name="Reza", score=40), Lead(name="Old", score=90,
                            created_at=utcnow() - timedelta(days=30))])
        db.session.commit()
    login()
    html = client.get("/").get_data(as_text=True)
    campaigns = _widget(html, "campaigns")
    assert re.search(r"data-count>1<", campaigns) and re.search(r"data-opens>1<", campaigns)
    leads = _widget(html, "leads")
    assert re.search(r"data-count>1<", leads) and "Reza" in leads and "Old" not in leads


def test_no_widgets_without_a_marketing_seat(app, client, make_user, login):
    make_user("sales@example.ir", role="manager", seats=["sales"], locale="en")
    login("sales@example.ir")
    html = client.get("/").get_data(as_text=True)
    assert "data-marketing-widget" not in html and "Campaigns this month" not in html


def test_demo_step_is_idempotent(app, make_user):
    from core.demo import DemoContext
    from modules.marketing.demo import load_marketing
    from modules.marketing.models.automations import Automation
    from modules.marketing.models.campaigns import Campaign, Recipient
    from modules.marketing.models.competitors import Competitor, CompetitorProduct
    from modules.marketing.models.leads import Lead
    from modules.marketing.models.segments import Segment

    models = (Segment, Campaign, Recipient, Lead, Automation, Competitor, CompetitorProduct)
    assert any(s.name == "marketing" for s in app.extensions["crm_demo_steps"])
    with app.app_context():
        for i in range(5):
            _customer(f"c{i}", f"0912000000{i}")
        db.session.commit()
        load_marketing(DemoContext())

        def counts():
            return [db.session.execute(select(func.count()).select_from(m)).scalar_one()
                    for m in models]

        first = counts()
        assert first == [2, 1, 5, 4, 5, 2, 3]
        assert not any(db.session.execute(select(Automation.active)).scalars())
        assert db.session.execute(select(func.count()).select_from(Recipient).where(
            Recipient.opened_at.is_not(None))).scalar_one() == 3
        load_marketing(DemoContext())
        assert counts() == first


def test_crm_demo_loads_marketing_once(app, runner):
    from modules.marketing.models.campaigns import Campaign, Recipient
    from modules.marketing.models.competitors import Competitor

    assert runner.invoke(args=["crm", "demo"]).exit_code == 0
    with app.app_context():
        counts = [db.session.execute(select(func.count()).select_from(m)).scalar_one()
                  for m in (Campaign, Recipient, Competitor)]
        assert counts[0] >= 1 and counts[1] > 0 and counts[2] >= 2
        names = db.session.execute(select(Campaign.name)).scalars().all()
        assert names.count("جشنواره نوروزی") == 1
    assert runner.invoke(args=["crm", "demo"]).exit_code == 0
    with app.app_context():
        assert [db.session.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Campaign, Recipient, Competitor)] == counts
