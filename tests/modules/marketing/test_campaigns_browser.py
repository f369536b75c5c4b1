"""In a real browser (fa): write an email campaign (the SMS counter counts while typing), send
a test to a real local SMTP server, and schedule it by a Jalali date and Tehran time."""

import jdatetime
from sqlalchemy import select

from core import outbox
from core.customers.models import ContactPoint, Customer
from core.database import set_setting, utcnow
from core.extensions import db
from core.i18n import to_persian_digits, to_tehran
from modules.marketing.models.campaigns import Campaign
from modules.marketing.models.segments import Segment, SegmentMember
from tests.browser import assert_clean, shot, sign_in
from tests.core.messaging.servers import SmtpServer


def _seed(app, smtp: SmtpServer) -> None:
    with app.app_context():
        c = Customer(kind="person", display_name="سارا رضایی", first_name="سارا",
                     last_name="رضایی", custom={}, search_key="", consent_email=True)
        c.contacts.append(ContactPoint(kind="email", value="sara@example.ir", primary=True))
        db.session.add(c)
        segment = Segment(name="مشتریان وفادار", kind="static", rules={})
        db.session.add(segment)
        db.session.flush()
        db.session.add(SegmentMember(segment_id=segment.id, customer_id=c.id))
        for key, value in {"host": smtp.host, "port": smtp.port, "tls": "none",
                           "from": "پیوند <crm@peyvand.test>"}.items():
            set_setting(f"smtp.{key}", value)
        db.session.commit()


def test_create_test_send_and_schedule_in_persian(app, make_user, browser_page, live_server):
    make_user("admin@example.ir", role="admin", seats=["marketing"], locale="fa")
    smtp = SmtpServer().start()
    try:
        _seed(app, smtp)
        page = browser_page
        sign_in(page, live_server, "admin@example.ir")
        page.goto(live_server("/marketing/campaigns"))
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("[data-empty-state]").count() == 1
        assert page.locator("[data-marketing-nav] .nav-link.active").count() == 1
        page.click("[data-new-campaign]")

        page.fill("input[name=name]", "حراج پاییزه")
        page.select_option("select[name=segment_id]", label="مشتریان وفادار")
        page.fill("input[name=subject]", "سلام {{ first_name }}")
        # A/B is off: campaign-form.js hides variant B once it has run (a deferred script,
        # which may run after the first fields are filled on a busy machine)
        page.wait_for_selector("textarea[name=body_text_b]", state="hidden", timeout=30_000)
        page.select_option("select[name=channel]", "sms")
        assert page.locator("input[name=subject]").is_hidden()
        counter = page.locator('[data-sms-counter="body_text"]')
        page.fill("textarea[name=body_text]", "س" * 70)
        assert counter.locator("[data-parts]").inner_text() == "۱"
        assert counter.locator("[data-remaining]").inner_text() == "۰"
        page.fill("textarea[name=body_text]", "سلام {{ first_name }}، " + "ت" * 60)
        assert counter.locator("[data-parts]").inner_text() == "۲"
        page.fill("textarea[name=body_text]", "Hello {{ first_name }}")
        assert counter.locator("[data-parts]").inner_text() == "۱"
        assert counter.locator("[data-encoding]").inner_text() == counter.get_attribute(
            "data-label-gsm")  # the Latin 160/153 rule
        page.select_option("select[name=channel]", "email")
        assert page.locator("input[name=subject]").is_visible() and counter.is_hidden()
        page.fill("textarea[name=body_text]", "سلام {{ first_name }}، حراج پاییزه شروع شد!")
        page.fill("input[name=cost]", "۲٬۵۰۰٬۰۰۰")
        shot(page, "marketing-campaign-form")
        page.click("form[data-campaign-form] button[type=submit]")
        page.wait_for_selector("[data-campaign-actions]")
        with app.app_context():
            campaign = db.session.scalar(select(Campaign))
            assert (campaign.name, campaign.cost, campaign.status) == ("حراج پاییزه", 2500000,
                                                                       "draft")

        page.click("[data-preview]")
        assert page.locator("[data-preview-subject]").inner_text() == "سلام سارا"
        page.go_back()

        page.fill("form[data-test-form] input[name=address]", "boss@example.ir")
        page.click("form[data-test-form] button[type=submit]")
        page.wait_for_selector(".alert-success")
        with app.app_context():
            outbox.relay_once()
        [mail] = smtp.wait_for(1)
        assert mail.rcpt_tos == ["boss@example.ir"] and "سارا" in str(mail.message["Subject"])

        day = jdatetime.date.fromgregorian(date=to_tehran(utcnow()).date()) + \
            jdatetime.timedelta(2)
        when = to_persian_digits(f"{day.year}/{day.month:02d}/{day.day:02d} 09:15")
        page.fill("form[data-schedule-form] input[name=when]", when)
        page.keyboard.press("Escape")
        page.click("form[data-schedule-form] button[type=submit]")
        page.wait_for_selector("[data-scheduled-at]")
        shown = page.locator("[data-scheduled-at]").inner_text()
        assert to_persian_digits(f"{day.day:02d}") in shown or to_persian_digits(
            str(day.day)) in shown
        assert "۰۹:۱۵" in shown
        shot(page, "marketing-campaign-scheduled")
        with app.app_context():
            campaign = db.session.scalar(select(Campaign))
            assert campaign.status == "scheduled"
            assert to_tehran(campaign.scheduled_at).strftime("%H:%M") == "09:15"
        assert_clean(page)
    finally:
        smtp.stop()


def test_progress_updates_live_while_sending(app, make_user, browser_page, live_server):
    from sqlalchemy import update

    from modules.marketing import engine
    from modules.marketing.models.campaigns import Recipient

    make_user("admin@example.ir", role="admin", seats=["marketing"], locale="fa")
    smtp = SmtpServer().start()
    try:
        _seed(app, smtp)
        with app.app_context():
            segment = db.session.scalar(select(Segment))
            campaign = Campaign(name="در حال ارسال", channel="email", segment_id=segment.id,
                                subject="سلام", body_text="متن")
            db.session.add(campaign)
            db.session.flush()
            engine.start(campaign, dispatch=False)  # recipients chosen, nothing sent yet
            db.session.commit()
            cid = campaign.id
        page = browser_page
        sign_in(page, live_server, "admin@example.ir")
        page.goto(live_server(f"/marketing/campaigns/{cid}"))
        assert page.locator("[data-campaign-progress] [data-percent]").get_attribute(
            "data-percent") == "0"
        with app.app_context():
            db.session.execute(update(Recipient).where(Recipient.campaign_id == cid)
                               .values(status="sent"))
            db.session.commit()
        page.wait_for_selector('[data-campaign-progress] [data-percent="100"]')
        assert "۱۰۰" in page.locator("[data-campaign-progress]").inner_text()
        assert_clean(page)
    finally:
        smtp.stop()
