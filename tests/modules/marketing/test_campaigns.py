"""Campaign pages: list, form validation, SMS counter, preview, permissions, actions."""

import html as html_lib
import re

import pytest
from sqlalchemy import select

from core.customers.models import ContactPoint, Customer
from core.extensions import db
from modules.marketing.models.campaigns import Campaign
from modules.marketing.models.segments import Segment, SegmentMember
from tests.conftest import csrf_from


@pytest.fixture
def people(app, make_user):
    """An admin, an agent (marketing.view, not manage), a static segment of two customers."""
    make_user(seats=["marketing"])
    make_user("agent@example.ir", role="agent", seats=["marketing"])
    make_user("en@example.ir", seats=["marketing"], locale="en")
    with app.app_context():
        customers = []
        for n, name in enumerate(("سارا", "علی")):
            c = Customer(kind="person", display_name=f"{name} رضایی", first_name=name,
                         last_name="رضایی", custom={}, search_key="", consent_email=True,
                         consent_sms=True)
            c.contacts.append(ContactPoint(kind="email", value=f"c{n}@example.ir", primary=True))
            c.contacts.append(ContactPoint(kind="mobile", value=f"+98912000000{n}",
                                           primary=True))
            db.session.add(c)
            customers.append(c)
        segment = Segment(name="وفادار", kind="static", rules={})
        db.session.add(segment)
        db.session.flush()
        for c in customers:
            db.session.add(SegmentMember(segment_id=segment.id, customer_id=c.id))
        db.session.commit()
        return {"segment": segment.id}


def _form(segment_id, **changes):
    data = {"name": "حراج پاییز", "channel": "email", "segment_id": str(segment_id),
            "subject": "سلام {{ first_name }}", "body_text": "سلام {{ first_name }}، حراج!",
            "body_html": "", "ab_percent": "۲۰", "ab_metric": "open", "ab_wait_hours": "4",
            "cost": "۱٬۲۰۰٬۰۰۰", "attribution_days": "۳۰", "throttle_per_minute": "",
            "quiet_start": "۲۲:۰۰", "quiet_end": "08:00"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _campaign(app, name="حراج پاییز") -> Campaign:
    with app.app_context():
        return db.session.execute(select(Campaign).where(Campaign.name == name)).scalar_one()


def test_empty_list_says_what_to_do(client, people, login):
    login()
    html = client.get("/marketing/campaigns").get_data(as_text=True)
    assert "data-marketing-nav" in html and 'href="/marketing/campaigns/new"' in html
    assert "data-empty-state" in html


def test_create_with_persian_digits_and_quiet_hours(app, client, people, login):
    login()
    page = client.get("/marketing/campaigns/new")
    assert 'data-sms-counter="body_text"' in page.get_data(as_text=True)
    response = client.post("/marketing/campaigns/new",
                           data={**_form(people["segment"]), "csrf_token": csrf_from(page)})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    c = _campaign(app)
    assert (c.status, c.cost, c.attribution_days, c.ab_percent) == ("draft", 1200000, 30, 20)
    assert (c.quiet_start, c.quiet_end) == (22 * 60, 8 * 60)
    assert c.segment_id == people["segment"]
    listed = client.get("/marketing/campaigns?q=پاییز").get_data(as_text=True)
    assert "حراج پاییز" in listed and f'data-campaign="{c.id}"' in listed
    assert "حراج پاییز" not in client.get("/marketing/campaigns?channel=sms").get_data(
        as_text=True).split("campaign-results")[1]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": ""}, "name", None),
    ({"subject": ""}, "subject", "An email needs a subject."),
    ({"body_text": "سلام {{ first_name "}, "body_text", "cannot be read"),
    ({"quiet_start": "25:00"}, "quiet_start", "is not a time"),
    ({"quiet_end": ""}, "quiet_end", "both ends"),
    ({"cost": "دو"}, "cost", "is not a number"),
    ({"ab_percent": "90"}, "ab_percent", "between"),
    ({"ab_test": "y", "subject_b": "", "body_text_b": ""}, "subject_b", "Version B"),
    ({"channel": "sms", "ab_test": "y", "body_text_b": "ب"}, "ab_metric", "no opens"),
])
def test_validation_messages(app, client, people, login, changes, field, message):
    login("en@example.ir")
    page = client.get("/marketing/campaigns/new")
    response = client.post("/marketing/campaigns/new",
                           data={**_form(people["segment"], **changes),
                                 "csrf_token": csrf_from(page)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"',
                     html), field
    assert message is None or message in html
    with app.app_context():
        assert db.session.execute(select(Campaign)).first() is None


def test_sms_counter_on_the_form_and_the_preview(app, client, people, login):
    login()
    page = client.get("/marketing/campaigns/new")
    text = "س" * 71  # Persian: over 70 → two parts of 67
    response = client.post("/marketing/campaigns/new", data={
        **_form(people["segment"], channel="sms", subject="", body_text=text, name="پیامک"),
        "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    c = _campaign(app, "پیامک")
    edit = client.get(f"/marketing/campaigns/{c.id}/edit").get_data(as_text=True)
    counter = edit.split('data-sms-counter="body_text"')[1].split("</div>")[0]
    assert "<strong data-parts>۲</strong>" in counter
    assert "<strong data-remaining>۶۳</strong>" in counter
    assert 'src="/static/js/sms-counter.js' in edit
    preview = client.get(f"/marketing/campaigns/{c.id}/preview").get_data(as_text=True)
    sent = re.search(r"data-preview-text>(.*?)</p>", preview, re.S)[1].replace("<br>", "\n")
    assert sent.startswith(text) and "/marketing/t/s/" in sent  # with the opt-out link
    from modules.marketing.sms_length import sms_length

    real = sms_length(html_lib.unescape(sent))
    assert real.parts == 3  # the link pushes it from two parts to three
    assert f'data-sms-server-count data-parts="{real.parts}" data-remaining="{real.remaining}"' \
        in preview
    shown = client.get(f"/marketing/campaigns/{c.id}").get_data(as_text=True)
    assert 'data-parts="2"' in shown


def test_preview_fills_fields_for_a_sample_member(app, client, people, login):
    login()
    page = client.get("/marketing/campaigns/new")
    client.post("/marketing/campaigns/new", data={
        **_form(people["segment"], body_html="<p>{{ first_name }} <b>عزیز</b></p>"),
        "csrf_token": csrf_from(page)})
    c = _campaign(app)
    html = client.get(f"/marketing/campaigns/{c.id}/preview").get_data(as_text=True)
    assert re.search(r"data-preview-subject>سلام (سارا|علی)<", html)
    assert re.search(r"data-preview-text>سلام (سارا|علی)، حراج!", html)
    frame = client.get(f"/marketing/campaigns/{c.id}/preview/email")
    assert "frame-ancestors 'self'" in frame.headers["Content-Security-Policy"]
    assert frame.headers["X-Frame-Options"] == "SAMEORIGIN"
    email = frame.get_data(as_text=True)
    assert re.search(r"(سارا|علی) <b>عزیز</b>", email) and 'dir="rtl"' in email


def test_agent_reads_but_cannot_create_or_send(app, client, people, login):
    login("agent@example.ir")
    assert client.get("/marketing/campaigns").status_code == 200
    assert client.get("/marketing/campaigns/new").status_code == 403
    with app.app_context():
        c = Campaign(name="x", channel="email", segment_id=people["segment"], subject="s",
                     body_text="t")
        db.session.add(c)
        db.session.commit()
        cid = c.id
    shown = client.get(f"/marketing/campaigns/{cid}")
    assert shown.status_code == 200 and "data-campaign-actions" not in shown.get_data(
        as_text=True)
    token = csrf_from(shown)
    for url in (f"/marketing/campaigns/{cid}/start", f"/marketing/campaigns/{cid}/test",
                f"/marketing/campaigns/{cid}/schedule", f"/marketing/campaigns/{cid}/edit"):
        assert client.post(url, data={"csrf_token": token, "address": "a@b.ir"}
                           ).status_code == 403, url
    with app.app_context():
        assert db.session.get(Campaign, cid).status == "draft"


def test_schedule_in_jalali_then_start_and_pause_from_the_page(app, client, people, login):
    import jdatetime

    from core.database import utcnow
    from core.i18n import to_tehran

    login()
    page = client.get("/marketing/campaigns/new")
    client.post("/marketing/campaigns/new", data={**_form(people["segment"], quiet_start="",
                                                          quiet_end=""),
                                                  "csrf_token": csrf_from(page)})
    c = _campaign(app)
    shown = client.get(f"/marketing/campaigns/{c.id}")
    token = csrf_from(shown)
    day = jdatetime.date.fromgregorian(date=to_tehran(utcnow()).date()) + jdatetime.timedelta(3)
    when = f"{day.year}/{day.month:02d}/{day.day:02d} ۱۰:۳۰".translate(
        str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = client.post(f"/marketing/campaigns/{c.id}/schedule",
                           data={"when": when, "csrf_token": token})
    assert response.status_code == 302
    c = _campaign(app)
    assert c.status == "scheduled"
    local = to_tehran(c.scheduled_at)
    assert (local.hour, local.minute) == (10, 30)
    assert jdatetime.date.fromgregorian(date=local.date()) == day
    html = client.get(f"/marketing/campaigns/{c.id}").get_data(as_text=True)
    assert "data-scheduled-at" in html and "۱۰:۳۰" in html
    when_input = re.search(r'<input[^>]*name="when"[^>]*>', html)[0]
    assert "۱۰:۳۰" in when_input  # the schedule form shows the time it holds
    bad = client.post(f"/marketing/campaigns/{c.id}/schedule",
                      data={"when": "1400/13/40", "csrf_token": token}, follow_redirects=True)
    assert "alert-danger" in bad.get_data(as_text=True)
    assert client.post(f"/marketing/campaigns/{c.id}/start",
                       data={"csrf_token": token}).status_code == 302
    c = _campaign(app)
    assert c.status in ("sending", "sent") and c.total == 2
    with app.app_context():
        db.session.get(Campaign, c.id).status = "sending"  # the inline job may have finished
        db.session.commit()
    progress = client.get(f"/marketing/campaigns/{c.id}/progress").get_data(as_text=True)
    assert 'hx-trigger="every 2s"' in progress and "data-percent" in progress
    client.post(f"/marketing/campaigns/{c.id}/pause", data={"csrf_token": token})
    assert _campaign(app).status == "paused"
    assert client.get(f"/marketing/campaigns/{c.id}/edit").status_code == 302  # not editable
    assert client.post(f"/marketing/campaigns/{c.id}/pause",
                       data={"csrf_token": token}, follow_redirects=True).status_code == 200
    assert client.post(f"/marketing/campaigns/{c.id}/start", data={}).status_code == 400
