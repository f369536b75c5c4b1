"""Campaigns API: create, validate, read with marketing.view, send with marketing.manage."""

import pytest

from core import outbox
from core.database import set_setting
from core.extensions import db
from modules.marketing.models.campaigns import Campaign, Recipient
from tests.core.messaging.servers import SmtpServer
from tests.modules.marketing.test_campaigns import people  # noqa: F401 - fixture
from tests.modules.sales.deal_helpers import bearer_for

URL = "/api/v1/marketing/campaigns"


def _body(segment, **changes):
    body = {"name": "حراج زمستان", "channel": "email", "segment_id": segment,
            "subject": "سلام {{ first_name }}", "body_text": "سلام {{ first_name }}!",
            "cost": 5000000, "quiet_start": "22:00", "quiet_end": "08:00"}
    body.update(changes)
    return body


@pytest.fixture
def admin(app, people):  # noqa: F811
    return bearer_for(app, "admin@example.ir")


def test_create_read_list_and_change(app, client, people, admin):  # noqa: F811
    created = client.post(URL, json=_body(people["segment"]), headers=admin)
    assert created.status_code == 201, created.json
    data = created.json
    assert (data["status"], data["cost"], data["quiet_start"]) == ("draft", 5000000, "22:00")
    cid = data["id"]
    assert client.get(f"{URL}/{cid}", headers=admin).json["name"] == "حراج زمستان"
    listed = client.get(f"{URL}?status=draft&q=زمستان", headers=admin).json["items"]
    assert [c["id"] for c in listed] == [cid]
    assert client.get(f"{URL}?channel=sms", headers=admin).json["items"] == []
    changed = client.patch(f"{URL}/{cid}", json={"throttle_per_minute": 60}, headers=admin)
    assert changed.status_code == 200 and changed.json["throttle_per_minute"] == 60
    assert changed.json["subject"] == "سلام {{ first_name }}"


@pytest.mark.parametrize(("changes", "field"), [
    ({"subject": ""}, "subject"),
    ({"body_text": "{% if %}"}, "body_text"),
    ({"quiet_start": "8"}, "quiet_start"),
    ({"segment_id": 999}, "segment_id"),
    ({"quiet_end": None}, "quiet_end"),
])
def test_invalid_campaign_is_refused_with_the_field(app, client, people, admin,  # noqa: F811
                                                    changes, field):
    response = client.post(URL, json=_body(people["segment"], **changes), headers=admin)
    assert response.status_code == 422
    errors = response.json["errors"]
    assert field in errors.get("json", errors), errors
    with app.app_context():
        assert db.session.query(Campaign).count() == 0


def test_start_pause_resume_cancel_and_stats(app, client, people, admin):  # noqa: F811
    cid = client.post(URL, json=_body(people["segment"], quiet_start=None, quiet_end=None),
                      headers=admin).json["id"]
    started = client.post(f"{URL}/{cid}/start", headers=admin)
    assert started.status_code == 200, started.json
    assert started.json["status"] in ("sending", "sent") and started.json["total"] == 2
    with app.app_context():
        assert db.session.query(Recipient).filter_by(campaign_id=cid).count() == 2
        db.session.get(Campaign, cid).status = "sending"  # the inline job may have finished
        db.session.commit()
    assert client.post(f"{URL}/{cid}/pause", headers=admin).json["status"] == "paused"
    again = client.post(f"{URL}/{cid}/pause", headers=admin)
    assert again.status_code == 409 and again.json["detail"]
    assert client.post(f"{URL}/{cid}/cancel", headers=admin).json["status"] == "cancelled"
    stats = client.get(f"{URL}/{cid}/stats", headers=admin).json
    assert stats["progress"]["total"] == 2 and "sent" in stats["stats"]
    assert client.post(f"{URL}/{cid}/explode", headers=admin).status_code == 404


def test_agent_reads_but_cannot_write_or_send(app, client, people, admin):  # noqa: F811
    cid = client.post(URL, json=_body(people["segment"]), headers=admin).json["id"]
    agent = bearer_for(app, "agent@example.ir")
    assert client.get(f"{URL}/{cid}", headers=agent).status_code == 200
    assert client.get(f"{URL}/{cid}/stats", headers=agent).status_code == 200
    assert client.post(URL, json=_body(people["segment"], name="x"),
                       headers=agent).status_code == 403
    assert client.patch(f"{URL}/{cid}", json={"name": "y"}, headers=agent).status_code == 403
    for action in ("start", "pause", "cancel"):
        assert client.post(f"{URL}/{cid}/{action}", headers=agent).status_code == 403
    assert client.post(f"{URL}/{cid}/test", json={"to": "a@b.ir"},
                       headers=agent).status_code == 403
    with app.app_context():
        assert db.session.get(Campaign, cid).status == "draft"


def test_test_send_reaches_a_real_smtp_server(app, client, people, admin):  # noqa: F811
    server = SmtpServer().start()
    try:
        with app.app_context():
            for key, value in {"host": server.host, "port": server.port, "tls": "none",
                               "from": "پیوند <crm@peyvand.test>"}.items():
                set_setting(f"smtp.{key}", value)
            db.session.commit()
        cid = client.post(URL, json=_body(people["segment"]), headers=admin).json["id"]
        response = client.post(f"{URL}/{cid}/test", json={"to": "boss@example.ir"},
                               headers=admin)
        assert response.status_code == 200 and response.json["sent"] is True
        with app.app_context():
            outbox.relay_once()
        [mail] = server.wait_for(1)
        assert mail.rcpt_tos == ["boss@example.ir"]
        assert "سلام" in str(mail.message["Subject"])
        with app.app_context():
            assert db.session.get(Campaign, cid).status == "draft"  # a test is not a send
    finally:
        server.stop()


def test_schedule_through_the_api(app, client, people, admin):  # noqa: F811
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    cid = client.post(URL, json=_body(people["segment"]), headers=admin).json["id"]
    past = client.post(f"{URL}/{cid}/schedule", json={"at": "2020-01-01T09:00:00+03:30"},
                       headers=admin)
    assert past.status_code == 409 and past.json["detail"]
    naive = client.post(f"{URL}/{cid}/schedule", json={"at": "2030-01-01T09:00:00"},
                        headers=admin)
    assert naive.status_code == 422  # a time without its offset is ambiguous
    when = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    local = when.astimezone(ZoneInfo("Asia/Tehran")).isoformat()
    done = client.post(f"{URL}/{cid}/schedule", json={"at": local}, headers=admin)
    assert done.status_code == 200 and done.json["status"] == "scheduled"
    with app.app_context():
        stored = db.session.get(Campaign, cid).scheduled_at
        assert stored.replace(tzinfo=stored.tzinfo or UTC) == when
