"""In a real browser (fa): a customer signs in to the portal with the code sent by SMS, opens
a ticket (a help article is suggested while typing), an agent answers it, the customer reads
the answer, the agent closes the ticket and the customer rates it from the survey SMS link."""

import re
import time

import pytest

from core.extensions import db
from tests.browser import _WATCH_CSP, assert_clean, shot, sign_in
from tests.core.messaging.servers import HttpGateway
from tests.core.portal.helpers import make_customer


def _wait_for_sms(gateway: HttpGateway, pattern: str, timeout: float = 10.0) -> str:
    """The first match of ``pattern`` in an SMS the gateway received (waits for the relay)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for request in list(gateway.requests):
            found = re.search(pattern, request.params.get("text", ""))
            if found:
                return found.group(1)
        time.sleep(0.1)
    texts = [r.params.get("text") for r in gateway.requests]
    raise AssertionError(f"no SMS matching {pattern!r}; received: {texts}")


@pytest.fixture
def sms_gateway(app):
    """A real HTTP SMS gateway on 127.0.0.1, configured as the deployment's provider."""
    from core.database import set_setting

    gateway = HttpGateway().start()
    with app.app_context():
        set_setting("sms.provider", "generic")
        set_setting("sms.config", {"url": gateway.url + "/send"})
        db.session.commit()
    yield gateway
    gateway.stop()


@pytest.mark.e2e
def test_customer_portal_ticket_answer_close_and_rate(app, browser, browser_page, live_server,
                                                      make_user, sms_gateway):
    from modules.service.kb import create_article
    from modules.service.models.surveys import SurveyResponse
    from modules.service.models.tickets import Message, Ticket

    make_user("agent@example.ir", name="سارا پشتیبان", seats=["service"], locale="fa")
    make_customer(app, name="مریم احمدی", emails=())  # mobile only: codes and survey by SMS
    with app.test_request_context():
        create_article(title_fa="راهنمای گارانتی یخچال", body_fa="کارت گارانتی را همراه بیاورید.",
                       public=True)
        db.session.commit()

    # the customer asks for a code and signs in with it
    customer = browser_page
    customer.goto(live_server("/portal/"))
    customer.wait_for_url(re.compile(r"/portal/sign-in"))
    assert customer.get_attribute("html", "dir") == "rtl"
    customer.fill("input[name=address]", "۰۹۱۲ ۳۴۵ ۶۷۸۹")
    customer.click("[data-portal-sign-in] button[type=submit]")
    customer.wait_for_url(re.compile(r"/portal/code"))
    code = _wait_for_sms(sms_gateway, r"(\d{6})")
    customer.fill("input[name=code]", code)
    customer.click("[data-portal-code] button[type=submit]")
    customer.wait_for_url(live_server("/portal/"))
    assert "مریم احمدی" in customer.inner_text("[data-portal-customer]")
    shot(customer, "portal-home-fa")

    # opens a ticket; a public help article is suggested while the subject is typed
    customer.click("[data-portal-page='service_portal.tickets']")
    assert customer.locator("[data-empty-state]").count() == 1
    customer.click("[data-new-ticket]")
    customer.locator("input[name=subject]").press_sequentially("گارانتی یخچال", delay=20)
    customer.wait_for_selector("[data-suggested-articles] >> text=راهنمای گارانتی یخچال")
    customer.select_option("select[name=type]", "warranty")
    customer.fill("textarea[name=body]", "یخچال از دیروز خنک نمی‌کند.")
    shot(customer, "portal-new-ticket-fa")
    customer.click("[data-portal-ticket-form] button[type=submit]")
    customer.wait_for_selector("[data-conversation] >> text=یخچال از دیروز خنک نمی‌کند.")
    with app.app_context():
        ticket = db.session.query(Ticket).one()
        ticket_id, reference = ticket.id, ticket.reference
        assert (ticket.channel, ticket.type) == ("portal", "warranty")

    # an agent, in a browser of their own, answers publicly and adds an internal note
    context = browser.new_context(viewport={"width": 1280, "height": 860},
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    agent = context.new_page()
    agent.crm_problems = problems = []  # watched like the browser_page fixture's page
    agent.add_init_script(_WATCH_CSP)
    agent.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
             if msg.type in ("error", "warning") else None)
    agent.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    try:
        sign_in(agent, live_server, "agent@example.ir")
        agent.goto(live_server(f"/service/tickets/{ticket_id}"))
        assert "یخچال از دیروز خنک نمی‌کند." in agent.inner_text("body")
        agent.check("[data-reply-form] input[name=kind][value=internal]")
        agent.fill("[data-reply-form] textarea[name=body]", "یادداشت داخلی: قطعه در انبار نیست")
        agent.click("[data-reply-form] button[type=submit]")
        agent.wait_for_selector("[data-message=internal]")
        agent.check("[data-reply-form] input[name=kind][value=public]")
        agent.fill("[data-reply-form] textarea[name=body]",
                   "سلام، تکنسین ما فردا ساعت ۱۰ با شما تماس می‌گیرد.")
        agent.click("[data-reply-form] button[type=submit]")
        agent.wait_for_selector("[data-message=public]")

        # the customer sees the answer, never the note
        customer.reload()
        conversation = customer.inner_text("[data-conversation]")
        assert "تکنسین ما فردا ساعت ۱۰ با شما تماس می‌گیرد." in conversation
        assert "یادداشت داخلی" not in customer.inner_text("body")
        customer.fill("textarea[name=body]", "ممنون، منتظر تماس هستم.")
        customer.click("[data-portal-reply] button[type=submit]")
        customer.wait_for_selector("[data-conversation] >> text=ممنون، منتظر تماس هستم.")
        with app.app_context():
            last = db.session.query(Message).order_by(Message.id.desc()).first()
            assert (last.kind, last.channel) == ("customer", "portal")

        # the agent closes the ticket; the survey link goes out by SMS
        agent.reload()
        agent.select_option("[data-change-form] select[name=status]", "closed")
        agent.click("[data-change-form] button[type=submit]")
        agent.wait_for_selector("[data-flash=success]")
        assert not [p for p in agent.crm_problems if "uncaught" in p], agent.crm_problems
    finally:
        context.close()

    link = _wait_for_sms(sms_gateway, r"(https?://\S+/survey/\S+)")
    customer.reload()
    assert customer.get_attribute("[data-ticket-status]", "data-ticket-status") == "closed"
    assert customer.locator("[data-ticket-closed]").count() == 1
    assert customer.locator("[data-portal-reply]").count() == 0
    assert customer.locator("[data-survey-invite]").count() == 1

    # the customer rates the ticket from the link, then sees the rating in the portal
    customer.goto(link)
    customer.click("label[data-score='5']")
    customer.fill("textarea[name=comment]", "پاسخ سریع بود.")
    customer.click("form button[type=submit]")
    customer.wait_for_url(re.compile(r"thanks=1"))
    with app.app_context():
        survey = db.session.query(SurveyResponse).one()
        assert (survey.ticket_id, survey.score, survey.comment) == (ticket_id, 5, "پاسخ سریع بود.")
    customer.goto(live_server(f"/portal/service/tickets/{ticket_id}"))
    assert customer.locator("[data-survey-answered]").count() == 1
    customer.goto(live_server("/portal/service/tickets"))
    assert customer.get_attribute(f"[data-ticket='{ticket_id}'] [data-status]",
                                  "data-status") == "closed"
    assert reference in customer.inner_text("[data-portal-tickets]").translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    shot(customer, "portal-tickets-fa")
    assert_clean(customer)
