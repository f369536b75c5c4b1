"""Public lead forms: hosted page, honeypot, token, rate limit, CORS; the leads API."""

import re

import pytest

from core.extensions import db
from modules.marketing import lead_forms
from modules.marketing.models.forms import FormSubmission, LeadForm
from modules.marketing.models.leads import Lead, ScoringRule
from tests.modules.service.ticket_helpers import bearer_for


@pytest.fixture
def app_overrides():
    return {"BABEL_DEFAULT_LOCALE": "en", "CRM_MARKETING_FORM_LIMIT": "3 per minute"}


@pytest.fixture
def form_key(app, make_user):
    make_user(seats=["marketing"])
    with app.test_request_context():
        db.session.add(ScoringRule(name="Form", kind="behaviour", event="form", points=7,
                                   max_times=1))
        form = lead_forms.save_form(
            None, name="Expo", title="Get a quote", consent_text="Send me news",
            fields=[{"name": "name", "required": True}, {"name": "mobile", "required": True},
                    {"name": "email"}, {"name": "bogus"}],
            allowed_origins="https://shop.example/landing\nnot a url")
        db.session.commit()
        assert form.allowed_origins == "https://shop.example"
        assert [f["name"] for f in form.fields] == ["name", "mobile", "email"]
        return form.key


def _token(client, key):
    page = client.get(f"/marketing/f/{key}?utm_source=fair&utm_campaign=expo1404")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="fair"' in html and "Send me news" in html
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def test_hosted_form_creates_a_scored_lead_with_utm_and_consent(app, client, form_key):
    token = _token(client, form_key)
    data = {"form_token": token, "name": "Ali", "mobile": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "consent": "1",
            "utm_source": "fair", "utm_campaign": "expo1404", "website": ""}
    sent = client.post(f"/marketing/f/{form_key}", data=data)
    assert sent.status_code == 200 and "data-form-thanks" in sent.get_data(as_text=True)
    again = client.post(f"/marketing/f/{form_key}", data={**data, "name": "Ali R."})
    assert again.status_code == 200
    with app.app_context():
        lead = db.session.execute(db.select(Lead)).scalar_one()
        assert (lead.mobile, lead.source, lead.utm_source, lead.utm_campaign) == (
            "+989123456789", "form", "fair", "expo1404")
        assert (lead.consent_sms, lead.consent_email) == (True, False)
        assert lead.score == 7  # the form rule counts once (max_times=1)
        assert db.session.query(FormSubmission).count() == 2
        assert db.session.execute(db.select(LeadForm)).scalar_one().submissions == 2


def test_honeypot_bad_token_and_missing_fields_create_nothing(app, client, form_key):
    token = _token(client, form_key)
    bot = client.post(f"/marketing/f/{form_key}", data={
        "form_token": token, "name": "Bot", "mobile": "09123456789", "website": "http://spam"})
    assert bot.status_code == 200  # the bot is told nothing
    forged = client.post(f"/marketing/f/{form_key}", data={
        "form_token": "forged", "name": "X", "mobile": "09123456789"})
    assert forged.status_code == 422 and "expired" in forged.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Lead).count() == 0
        assert db.session.query(FormSubmission).count() == 0


def test_missing_required_field_is_explained(app, client, form_key):
    token = _token(client, form_key)
    sent = client.post(f"/marketing/f/{form_key}", data={"form_token": token, "name": "Ali"},
                       headers={"Accept": "application/json"})
    assert sent.status_code == 422
    assert sent.json["errors"] == {"mobile": "This field is required."}


def test_rate_limit_per_ip(app, client, form_key):
    token = _token(client, form_key)
    codes = [client.post(f"/marketing/f/{form_key}", data={
        "form_token": token, "name": f"P{i}", "mobile": f"0912000000{i}"}).status_code
        for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_cross_origin_posts_only_from_allowed_origins(app, client, form_key):
    script = client.get(f"/marketing/f/{form_key}/embed.js")
    assert script.mimetype == "text/javascript"
    token = re.search(r'"token": "([^"]+)"', script.get_data(as_text=True)).group(1)
    data = {"form_token": token, "name": "Ali", "mobile": "09123456789",
            "page_url": "https://shop.example/landing?utm_source=ads&utm_medium=cpc"}
    refused = client.post(f"/marketing/f/{form_key}", data=data,
                          headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    allowed = client.post(f"/marketing/f/{form_key}", data=data,
                          headers={"Origin": "https://shop.example"})
    assert allowed.status_code == 200 and allowed.json["ok"] is True
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    with app.app_context():
        lead = db.session.execute(db.select(Lead)).scalar_one()
        assert (lead.utm_source, lead.utm_medium) == ("ads", "cpc")


def test_unknown_or_inactive_form_is_404(app, client, form_key):
    assert client.get("/marketing/f/nope").status_code == 404
    with app.app_context():
        db.session.execute(db.update(LeadForm).values(active=False))
        db.session.commit()
    assert client.get(f"/marketing/f/{form_key}").status_code == 404


def test_leads_api_with_idempotency_key_and_convert(app, client, make_user):
    make_user(seats=["marketing"])
    auth = bearer_for(app, "admin@example.ir")
    body = {"name": "Mina", "mobile": "09351234567", "utm_source": "api-test"}
    headers = {**auth, "Idempotency-Key": "lead-1"}
    first = client.post("/api/v1/marketing/leads", json=body, headers=headers)
    assert first.status_code == 201, first.json
    replay = client.post("/api/v1/marketing/leads", json=body, headers=headers)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json["id"] == first.json["id"]
    lead_id = first.json["id"]
    assert first.json["utm_source"] == "api-test" and first.json["owner_id"] is not None
    listed = client.get("/api/v1/marketing/leads?q=۰۹۳۵۱۲۳", headers=auth).json
    assert [i["id"] for i in listed["items"]] == [lead_id]
    assert client.get("/api/v1/marketing/leads?min_score=5", headers=auth).json["items"] == []
    patched = client.patch(f"/api/v1/marketing/leads/{lead_id}", json={"status": "qualified"},
                           headers=auth)
    assert patched.json["status"] == "qualified"
    converted = client.post(f"/api/v1/marketing/leads/{lead_id}/convert", json={},
                            headers=auth)
    assert converted.status_code == 200 and converted.json["customer_id"]
    again = client.post(f"/api/v1/marketing/leads/{lead_id}/convert", json={}, headers=auth)
    assert again.status_code == 422
    with app.app_context():
        assert db.session.query(Lead).count() == 1
