"""Tracking: open pixel, signed click redirects (tampering refused, never an open redirect),
SMS campaigns through a real local HTTP gateway with their opt-out link, test sends."""

import re

import pytest
from sqlalchemy import select

from core import outbox
from core.customers.models import Customer
from core.database import set_setting
from core.extensions import db
from core.messaging import is_opted_out
from modules.marketing import engine, sending, tracking
from modules.marketing.models.campaigns import Campaign, CampaignLink, Recipient, TrackingEvent
from tests.core.messaging.servers import HttpGateway, SmtpServer
from tests.modules.marketing.campaign_helpers import campaign, customer, static_segment, use_smtp


@pytest.fixture
def started(app):
    with app.app_context():
        set_setting("marketing.base_url", "https://crm.example.ir")
        seg = static_segment([customer(1), customer(2)])
        c = campaign(seg)
        engine.start(c, dispatch=False)
        db.session.commit()
        rows = db.session.scalars(select(Recipient).order_by(Recipient.id)).all()
        link = db.session.scalar(select(CampaignLink))
        return c.id, [r.token for r in rows], link.id


def test_links_are_registered_and_rewritten_with_signatures(app, started):
    cid, tokens, link_id = started
    with app.app_context():
        link = db.session.get(CampaignLink, link_id)
        assert link.url == "https://shop.example.ir/sale?x=1&y=2"
        html = ('<a href="https://shop.example.ir/sale?x=1&amp;y=2">x</a>'
                '<a href="mailto:a@b.ir">m</a>')
        out = tracking.rewrite(html, {link.url: link_id}, "https://crm.example.ir", tokens[0])
        assert f"/marketing/t/c/{tokens[0]}/{link_id}/{tracking.sign(tokens[0], link_id)}" in out
        assert 'href="mailto:a@b.ir"' in out


def test_click_redirects_counts_and_refuses_tampering(app, client, started):
    cid, tokens, link_id = started
    with app.app_context():
        good = f"/marketing/t/c/{tokens[0]}/{link_id}/{tracking.sign(tokens[0], link_id)}"
        other = campaign(db.session.get(Campaign, cid), name="دیگری")
        foreign = CampaignLink(campaign_id=other.id, url="https://evil.example.com/", clicks=0)
        db.session.add(foreign)
        db.session.commit()
        foreign_signed = (f"/marketing/t/c/{tokens[0]}/{foreign.id}/"
                          f"{tracking.sign(tokens[0], foreign.id)}")
        unknown = f"/marketing/t/c/{'0' * 32}/{link_id}/{tracking.sign('0' * 32, link_id)}"
    response = client.get(good)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://shop.example.ir/sale?x=1&y=2"
    assert client.get(good[:-1] + ("0" if good[-1] != "0" else "1")).status_code == 400
    assert client.get(good.replace(f"/{link_id}/", f"/{link_id + 1}/")).status_code == 400
    assert client.get(good.replace(tokens[0], tokens[1])).status_code == 400
    assert client.get(foreign_signed).status_code == 404  # a link of another campaign
    assert client.get(unknown).status_code == 404
    assert client.get(good + "?next=https://evil.example.com").headers["Location"].startswith(
        "https://shop.example.ir/")
    with app.app_context():
        r = db.session.scalar(select(Recipient).where(Recipient.token == tokens[0]))
        assert r.clicks == 2 and r.clicked_at is not None and r.opened_at is not None
        assert db.session.get(CampaignLink, link_id).clicks == 2
        stats = engine.stats(db.session.get(Campaign, cid))
        assert stats["clicks"] == 2 and stats["unique_clicks"] == 1


def test_open_pixel_counts_and_always_answers_a_gif(app, client, started):
    _cid, tokens, _link = started
    for _ in range(2):
        response = client.get(f"/marketing/t/o/{tokens[1]}.gif")
        assert response.status_code == 200 and response.mimetype == "image/gif"
    assert client.get("/marketing/t/o/nope.gif").mimetype == "image/gif"
    with app.app_context():
        r = db.session.scalar(select(Recipient).where(Recipient.token == tokens[1]))
        assert r.opens == 2 and r.opened_at is not None
        kinds = db.session.scalars(select(TrackingEvent.kind)).all()
        assert kinds == ["open", "open"]


def test_unsubscribe_refuses_a_tampered_signature(app, client, started):
    _cid, tokens, _link = started
    assert client.post(f"/marketing/t/u/{tokens[0]}/{'a' * 20}").status_code == 400
    with app.app_context():
        assert not is_opted_out("email", "user1@example.ir")


def test_sms_campaign_through_the_local_http_gateway_with_opt_out_link(app, client):
    gateway = HttpGateway(respond=lambda req: (200, {"ok": True, "id": "g-1"})).start()
    try:
        with app.app_context():
            set_setting("sms.provider", "generic")
            set_setting("sms.config", {"url": gateway.url + "/send", "method": "POST",
                                       "to_param": "to", "text_param": "text",
                                       "success_json_path": "ok", "success_value": True,
                                       "message_id_json_path": "id"})
            set_setting("marketing.base_url", "https://crm.example.ir")
            people = [customer(i, email=False, sms=True, consent_sms=True) for i in range(3)]
            people.append(customer(9, email=False, sms=True, consent_sms=False))
            c = campaign(static_segment(people), channel="sms", subject="",
                         body_text="{{ first_name }} عزیز، حراج آغاز شد", body_html="")
            assert engine.start(c, dispatch=False) == 3
            db.session.commit()
            sending.run(c.id)
            outbox.relay_once()
            assert sending.sync_delivery() == 3
        texts = {req.form["to"]: req.form["text"] for req in gateway.requests}
        assert sorted(texts) == ["+989120000000", "+989120000001", "+989120000002"]
        text = texts["+989120000001"]
        assert text.startswith("نام1 عزیز، حراج آغاز شد")
        link = re.search(r"https://crm\.example\.ir(/marketing/t/s/\w+)", text).group(1)
        assert client.post(link).status_code == 200
        with app.app_context():
            assert is_opted_out("sms", "+989120000001")
            assert db.session.scalar(select(Customer.consent_sms).where(
                Customer.display_name == "مشتری 1")) is False
            assert tracking.handle_sms_keyword("09120000002", " لغو ")
            db.session.commit()
            assert is_opted_out("sms", "+989120000002")
    finally:
        gateway.stop()


def test_test_send_is_not_counted(app):
    server = SmtpServer().start()
    try:
        with app.app_context():
            use_smtp(server)
            c = campaign(static_segment([customer(1, first="مریم")]))
            assert engine.test_send(c, "boss@example.ir")
            db.session.commit()
            outbox.relay_once()
            assert db.session.scalar(select(Recipient.id)) is None and c.sent_count == 0
        [mail] = server.wait_for(1)
        assert mail.rcpt_tos == ["boss@example.ir"]
        assert "مریم" in mail.message["Subject"]
    finally:
        server.stop()


def test_failed_delivery_is_recorded_on_the_recipient(app):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    with app.app_context():
        for key, value in {"host": "127.0.0.1", "port": 9, "tls": "none",
                           "from": "crm@peyvand.test"}.items():
            set_setting(f"smtp.{key}", value)
        c = campaign(static_segment([customer(1)]))
        engine.start(c, dispatch=False)
        db.session.commit()
        sending.run(c.id)
        assert outbox.relay_once()["dead"] == 1
        sending.sync_delivery()
        stats = engine.stats(db.session.get(Campaign, c.id))
        assert stats["failed"] == 1 and engine.progress(c)["failed"] == 1


def test_opens_and_clicks_score_the_lead_the_recipient_is(app, client, started):
    from modules.marketing import leads
    from modules.marketing.models.leads import ScoringRule

    _cid, tokens, link_id = started
    with app.test_request_context():
        db.session.add_all([
            ScoringRule(name="Opened", kind="behaviour", event="open", points=2),
            ScoringRule(name="Clicked", kind="behaviour", event="click", points=5, max_times=1)])
        recipient = db.session.scalar(select(Recipient).where(Recipient.token == tokens[0]))
        lead, _ = leads.create_or_update_lead({"name": "سرنخ", "email": recipient.address},
                                              "form")
        other, _ = leads.create_or_update_lead({"name": "دیگری", "email": "x@example.ir"},
                                               "form")
        db.session.commit()
        lead_id, other_id = lead.id, other.id
    for _ in range(2):
        client.get(f"/marketing/t/o/{tokens[0]}.gif")  # a reload of the pixel scores once
    with app.app_context():
        signature = tracking.sign(tokens[0], link_id)
    for _ in range(2):
        assert client.get(f"/marketing/t/c/{tokens[0]}/{link_id}/{signature}").status_code == 302
    with app.app_context():
        from modules.marketing.models.leads import Lead

        assert db.session.get(Lead, lead_id).score == 2 + 5  # the click rule is capped at once
        assert db.session.get(Lead, other_id).score == 0


def test_an_rfm_segment_rule_scores_a_converted_lead(app):
    from core.analytics.models import CustomerScore
    from modules.marketing import leads
    from modules.marketing.models.leads import ScoringRule

    with app.test_request_context():
        db.session.add(ScoringRule(name="Champions", kind="profile", field="rfm_segment",
                                   op="eq", value="champions", points=20))
        c = customer(7)
        db.session.flush()
        db.session.add(CustomerScore(customer_id=c.id, recency_days=3, frequency=9,
                                     monetary=9_000_000, r_score=5, f_score=5, m_score=5,
                                     segment="champions"))
        lead, _ = leads.create_or_update_lead({"name": "قهرمان", "email": "champ@x.ir"},
                                              "manual")
        assert lead.score == 0
        lead.customer_id = c.id
        assert leads.rescore(lead) == 20
