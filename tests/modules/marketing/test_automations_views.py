"""Automation pages: create per kind with checks, the on/off switch, run now and the log."""

import re

from sqlalchemy import select

from core.extensions import db
from tests.conftest import csrf_from


def _make(app, make_user):
    make_user(seats=["marketing"], locale="en")
    make_user("agent@example.ir", role="agent", seats=["marketing"], locale="en")


def test_create_an_occasion_from_a_preset_toggle_run_and_log(app, client, make_user, login):
    from modules.marketing.models.automations import Automation, AutomationSend

    _make(app, make_user)
    login()
    page = client.get("/marketing/automations")
    assert b"No automations yet" in page.data
    form = client.get("/marketing/automations/new?kind=occasion")
    assert b"Yalda night" in form.data
    bad = client.post("/marketing/automations/new?kind=occasion", data={
        "csrf_token": csrf_from(form), "name": "x", "channel": "sms", "preset": "",
        "occasion_month": "7", "occasion_day": "31", "body_text": "سلام"})
    assert bad.status_code == 200 and b"This month has days 1 to 30" in bad.data
    bad = client.post("/marketing/automations/new?kind=occasion", data={
        "csrf_token": csrf_from(form), "name": "x", "channel": "sms", "preset": "9-30",
        "body_text": "{{ first_name"})
    assert b"cannot be used" in bad.data
    done = client.post("/marketing/automations/new?kind=occasion", data={
        "csrf_token": csrf_from(form), "name": "یلدا", "channel": "sms", "preset": "9-30",
        "occasion_month": "", "occasion_day": "", "body_text": "یلدا مبارک {{ first_name }}"})
    assert done.status_code == 302
    with app.app_context():
        auto = db.session.execute(select(Automation)).scalar_one()
        assert (auto.kind, auto.occasion_month, auto.occasion_day, auto.active) == (
            "occasion", 9, 30, False)
        auto_id = auto.id
    page = client.get("/marketing/automations")
    assert re.search(rf'data-automation="{auto_id}" data-active="off"', page.get_data(True))
    assert client.post(f"/marketing/automations/{auto_id}/toggle",
                       data={"csrf_token": csrf_from(page)}).status_code == 302
    assert client.post(f"/marketing/automations/{auto_id}/toggle").status_code == 400  # CSRF
    page = client.get("/marketing/automations")
    assert re.search(rf'data-automation="{auto_id}" data-active="on"', page.get_data(True))
    with app.app_context():
        from core.customers.services import create_customer

        c = create_customer(first_name="مریم", mobiles=["09121234567"], consent_sms=True)
        db.session.add(AutomationSend(automation_id=auto_id, customer_id=c.id, period="1404"))
        db.session.commit()
    log = client.get(f"/marketing/automations/{auto_id}/log").get_data(as_text=True)
    assert "مریم" in log and "1404" in log and "Run now" in log
    ran = client.post(f"/marketing/automations/{auto_id}/run",
                      data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert b"Run done" in ran.data


def test_agents_see_but_cannot_change(app, client, make_user, login):
    from modules.marketing.models.automations import Automation

    _make(app, make_user)
    with app.app_context():
        db.session.add(Automation(name="تولد", kind="birthday", body_text="x"))
        db.session.commit()
    login("agent@example.ir")
    page = client.get("/marketing/automations")
    assert "تولد" in page.get_data(True) and b"data-toggle-automation" not in page.data
    assert client.get("/marketing/automations/new?kind=birthday").status_code == 403
    assert client.post("/marketing/automations/1/toggle",
                       data={"csrf_token": csrf_from(page)}).status_code == 403


def test_winback_needs_days_and_email_needs_a_subject(app, client, make_user, login):
    _make(app, make_user)
    login()
    form = client.get("/marketing/automations/new?kind=winback")
    bad = client.post("/marketing/automations/new?kind=winback", data={
        "csrf_token": csrf_from(form), "name": "w", "channel": "email", "delay_days": "0",
        "body_text": "x", "subject": ""})
    text = bad.get_data(as_text=True)
    assert "An email needs a subject" in text
    ok = client.post("/marketing/automations/new?kind=winback", data={
        "csrf_token": csrf_from(form), "name": "w", "channel": "sms", "delay_days": "۹۰",
        "body_text": "x"})
    assert ok.status_code == 302
    page = client.get("/marketing/automations?kind=winback").get_data(as_text=True)
    assert "at most every 90 days" in page
    fa = client.get("/marketing/automations/new?kind=welcome")
    assert fa.status_code == 200


def test_every_kind_in_persian(app, client, make_user, login):
    from modules.marketing.models.automations import KINDS, Automation

    make_user(seats=["marketing"], locale="fa")
    with app.app_context():
        db.session.add_all([
            Automation(name="خوش‌آمد", kind="welcome", delay_days=2, step=1, body_text="x"),
            Automation(name="تولد", kind="birthday", body_text="x", active=True),
            Automation(name="سالگرد", kind="anniversary", body_text="x"),
            Automation(name="نوروز", kind="occasion", occasion_month=1, occasion_day=1,
                       body_text="x"),
            Automation(name="بازگشت", kind="winback", delay_days=90, body_text="x")])
        db.session.commit()
    login()
    page = client.get("/marketing/automations").get_data(as_text=True)
    assert "۱ فروردین" in page and "۹۰" in page and page.count("data-automation=") == 5
    for kind in KINDS:
        form = client.get(f"/marketing/automations/new?kind={kind}")
        assert form.status_code == 200 and f'data-automation-form="{kind}"' in form.get_data(True)
    assert client.get("/marketing/automations/new?kind=nope").status_code == 404
    edit = client.get("/marketing/automations/1/edit").get_data(as_text=True)
    assert 'data-sms-parts="1"' in edit
    assert client.get("/marketing/automations/2/log").status_code == 200
