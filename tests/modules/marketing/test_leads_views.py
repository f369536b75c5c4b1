"""Lead pages: list with filters, lead page, edit, convert, rules admin, CSV import, builder."""

import io

from core.extensions import db
from modules.marketing import leads
from modules.marketing.models.forms import LeadForm
from modules.marketing.models.leads import AssignmentRule, Lead, ScoringRule
from tests.conftest import csrf_from


def _lead(app, **values):
    with app.test_request_context():
        lead, _ = leads.create_or_update_lead(values, "form", {"utm_source": "fair"})
        db.session.commit()
        return lead.id


def test_list_filters_and_lead_page_in_persian(app, client, make_user, login):
    make_user(seats=["marketing"])
    login()
    hot = _lead(app, name="علی رحیمی", mobile="09123456789", company="آلفا")
    cold = _lead(app, name="سارا", email="sara@x.ir")
    with app.app_context():
        db.session.get(Lead, hot).score = 40
        db.session.commit()
    page = client.get("/marketing/leads").get_data(as_text=True)
    assert f'data-lead="{hot}"' in page and f'data-lead="{cold}"' in page
    assert "۰۹۱۲۳۴۵۶۷۸۹" in page and 'dir="rtl"' in page
    found = client.get("/marketing/leads?q=۰۹۱۲۳۴&min_score=۱۰").get_data(as_text=True)
    assert f'data-lead="{hot}"' in found and f'data-lead="{cold}"' not in found
    none = client.get("/marketing/leads?status=converted").get_data(as_text=True)
    assert "data-empty-state" in none
    show = client.get(f"/marketing/leads/{hot}").get_data(as_text=True)
    assert 'data-utm="utm_source"' in show and "data-convert" in show
    assert 'data-activity="created"' in show


def test_edit_and_convert_from_the_page(app, client, make_user, login):
    make_user(seats=["marketing"], locale="en")
    login()
    lead_id = _lead(app, name="Reza", mobile="09120001111")
    form = client.get(f"/marketing/leads/{lead_id}/edit")
    bad = client.post(f"/marketing/leads/{lead_id}/edit", data={
        "csrf_token": csrf_from(form), "name": "Reza K", "mobile": "123", "status": "working",
        "owner_id": "0"})
    assert "not an Iranian mobile number" in bad.get_data(as_text=True)
    saved = client.post(f"/marketing/leads/{lead_id}/edit", data={
        "csrf_token": csrf_from(form), "name": "Reza K", "mobile": "0912 000 1111",
        "status": "qualified", "owner_id": "0", "consent_sms": "y"})
    assert saved.status_code == 302
    show = client.get(f"/marketing/leads/{lead_id}")
    converted = client.post(f"/marketing/leads/{lead_id}/convert",
                            data={"csrf_token": csrf_from(show)})
    assert converted.status_code == 302 and "/customers/" in converted.location
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert (lead.name, lead.status, lead.consent_sms) == ("Reza K", "converted", True)
        assert lead.customer_id


def test_rules_admin_and_import(app, client, make_user, login):
    make_user(seats=["marketing"], locale="en")
    login()
    page = client.get("/marketing/leads/rules")
    assert "No scoring rules" in page.get_data(as_text=True)
    token = csrf_from(page)
    client.post("/marketing/leads/rules/scoring/new", data={
        "csrf_token": token, "name": "Tehran", "kind": "profile", "field": "city", "op": "eq",
        "value": "Tehran", "event": "form", "points": "10", "active": "y"})
    user_id = make_user("rep@example.ir", role="agent", seats=["marketing"])
    client.post("/marketing/leads/rules/assignment/new", data={
        "csrf_token": token, "name": "All", "field": "", "value": "", "user_id": str(user_id),
        "team_id": "0", "position": "1", "active": "y"})
    with app.app_context():
        assert db.session.query(ScoringRule).count() == 1
        assert db.session.query(AssignmentRule).one().user_id == user_id
    csv = b"name,mobile,city\nAli,09120000001,Tehran\nBad,12,\n"
    result = client.post("/marketing/leads/import", data={
        "csrf_token": token, "file": (io.BytesIO(csv), "leads.csv")},
        content_type="multipart/form-data").get_data(as_text=True)
    assert "data-import-result" in result and "Line 3" in result
    with app.app_context():
        ali = db.session.execute(db.select(Lead)).scalar_one()
        assert (ali.score, ali.owner_id) == (10, user_id)


def test_form_builder_shows_the_snippet(app, client, make_user, login):
    make_user(seats=["marketing"], locale="en")
    login()
    page = client.get("/marketing/forms")
    assert "No lead forms yet" in page.get_data(as_text=True)
    token = csrf_from(page)
    refused = client.post("/marketing/forms/new", data={
        "csrf_token": token, "name": "Expo", "field_name": "1", "active": "y"})
    assert "needs a mobile or an email" in refused.get_data(as_text=True)
    saved = client.post("/marketing/forms/new", data={
        "csrf_token": token, "name": "Expo", "field_name": "1", "required_name": "1",
        "field_mobile": "1", "required_mobile": "1", "consent_text": "News please",
        "allowed_origins": "https://shop.example/", "active": "y"})
    assert saved.status_code == 302
    with app.app_context():
        form = db.session.execute(db.select(LeadForm)).scalar_one()
        assert form.fields == [{"name": "name", "required": True},
                               {"name": "mobile", "required": True}]
    edit = client.get(saved.location).get_data(as_text=True)
    assert f'data-peyvand-form="{form.key}"' in edit and f"/marketing/f/{form.key}/embed.js" in edit
