"""SMS campaigns from the pages: a test send reaches a real HTTP gateway; pages in English."""

from sqlalchemy import select

from core import outbox
from core.database import set_setting
from core.extensions import db
from modules.marketing.models.campaigns import Campaign
from tests.conftest import csrf_from
from tests.core.messaging.servers import HttpGateway
from tests.modules.marketing.test_campaigns import _form, people  # noqa: F401 - fixture


def _sms_campaign(client, segment_id) -> int:
    page = client.get("/marketing/campaigns/new")
    response = client.post("/marketing/campaigns/new", data={
        **_form(segment_id, channel="sms", subject="", ab_metric="click",
                body_text="{{ first_name }} جان، حراج پاییزه از فردا!"),
        "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def test_sms_test_send_reaches_the_gateway(app, client, people, login):  # noqa: F811
    gateway = HttpGateway().start()
    gateway.respond = lambda req: (200, "OK")
    try:
        with app.app_context():
            set_setting("sms.provider", "generic")
            set_setting("sms.config", {"url": gateway.url + "/send", "method": "POST",
                                       "success_substring": "OK"})
            db.session.commit()
        login()
        cid = _sms_campaign(client, people["segment"])
        shown = client.get(f"/marketing/campaigns/{cid}")
        response = client.post(f"/marketing/campaigns/{cid}/test", follow_redirects=True,
                               data={"address": "۰۹۱۲ ۱۱۱ ۲۲۳۳",
                                     "csrf_token": csrf_from(shown)})
        assert "alert-success" in response.get_data(as_text=True)
        with app.app_context():
            outbox.relay_once()  # delivered already when the job ran after the request
            assert db.session.get(Campaign, cid).status == "draft"  # a test is not a send
        [req] = gateway.requests
        assert req.form["to"].endswith("9121112233")
        assert req.form["text"].split("،")[0] in ("سارا جان", "علی جان")
    finally:
        gateway.stop()


def test_pages_in_english(app, client, people, login):  # noqa: F811
    login("en@example.ir")
    cid = _sms_campaign(client, people["segment"])
    listed = client.get("/marketing/campaigns").get_data(as_text=True)
    assert 'dir="ltr"' in listed and "New campaign" in listed and "Campaigns" in listed
    shown = client.get(f"/marketing/campaigns/{cid}").get_data(as_text=True)
    assert "Start sending now" in shown and "Send a test" in shown
    assert "Nothing sent yet" in shown
    preview = client.get(f"/marketing/campaigns/{cid}/preview").get_data(as_text=True)
    assert "SMS parts" in preview and "Persian: 70, or 67 per part" in preview
    form = client.get(f"/marketing/campaigns/{cid}/edit").get_data(as_text=True)
    assert "Quiet hours from" in form and 'value="22:00"' in form
    with app.app_context():
        assert db.session.scalar(select(Campaign.channel)) == "sms"


def test_test_send_to_an_opted_out_or_bad_number_says_so(app, client, people,  # noqa: F811
                                                         login):
    from core.messaging import opt_out

    with app.app_context():
        opt_out("sms", "+989121112233")
        db.session.commit()
    login()
    cid = _sms_campaign(client, people["segment"])
    token = csrf_from(client.get(f"/marketing/campaigns/{cid}"))
    opted = client.post(f"/marketing/campaigns/{cid}/test", follow_redirects=True,
                        data={"address": "09121112233", "csrf_token": token})
    assert "alert-warning" in opted.get_data(as_text=True)
    bad = client.post(f"/marketing/campaigns/{cid}/test", follow_redirects=True,
                      data={"address": "نه", "csrf_token": token})
    assert "alert-danger" in bad.get_data(as_text=True)
