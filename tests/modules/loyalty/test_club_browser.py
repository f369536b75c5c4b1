"""In a real browser (fa): a manager sets up an earning rule, posts an invoice in sales and sees
the points on the member page; the customer signs in to the portal with the code sent by SMS,
sees the points and redeems a coupon; an agent puts the coupon on a quote and sees the discount."""

import re
import time

import pytest
from sqlalchemy import select

from core.extensions import db
from tests.browser import _WATCH_CSP, assert_clean, shot, sign_in
from tests.core.messaging.servers import HttpGateway
from tests.modules.loyalty.reward_helpers import make_reward
from tests.modules.sales.document_helpers import make_buyer, make_product, set_company

# Visible text of <main> with Latin digits, outside <bdi> (codes, emails, URLs keep theirs).
_LATIN_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!/[0-9]/.test(node.textContent) || el.closest("bdi, script, style, template")) continue;
    if (!el.checkVisibility()) continue;
    out.push(node.textContent.trim());
  }
  return out;
}"""


def _latin_digits_outside_bdi(page) -> list[str]:
    return page.evaluate(_LATIN_TEXT)


def _wait_for_code(gateway: HttpGateway, after: int, timeout: float = 10.0) -> str:
    """The six-digit sign-in code in an SMS the gateway received after the first ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for request in list(gateway.requests)[after:]:
            found = re.search(r"(?<![0-9۰-۹])([0-9۰-۹]{6})(?![0-9۰-۹])",
                              request.params.get("text", ""))
            if found:
                return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no sign-in code; received: {[r.params for r in gateway.requests]}")


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


def _watched_page(browser, live_server):
    """A page in a browser context of its own, watched like the browser_page fixture's."""
    context = browser.new_context(viewport={"width": 1280, "height": 860},
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.crm_problems = problems = []
    page.add_init_script(_WATCH_CSP)
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    return context, page


@pytest.mark.e2e
def test_rule_invoice_points_portal_coupon_and_quote_in_persian(
        app, browser, browser_page, live_server, make_user, sms_gateway):
    from modules.loyalty.members import member_of
    from modules.loyalty.models.rewards import Coupon, Redemption
    from modules.sales.models.documents import Invoice, Quote

    make_user(name="مدیر باشگاه", seats=["sales", "loyalty"], locale="fa")
    make_user("agent@example.ir", name="علی فروشنده", role="agent", seats=["sales"],
              locale="fa")
    set_company(app)
    customer = make_buyer(app, owner_email="agent@example.ir", mobiles=["09123456789"])
    product = make_product(app, code="LAP-1", name="لپ تاپ اداری", price=45_000_000)
    # a 10% coupon for 300 points, at most 2,000,000 rials off
    reward = make_reward(app, name_fa="تخفیف ده درصدی", name_en="Ten percent off",
                         cost_points=300, percent_bp=1000)

    manager = browser_page
    sign_in(manager, live_server, "admin@example.ir")

    # 1. The manager adds "10 points for every 1,000,000 rials" in the club's rules.
    manager.goto(live_server("/loyalty/rules"))
    assert manager.get_attribute("html", "dir") == "rtl"
    manager.click("a[href='/loyalty/rules/new']")
    manager.fill("input[name=name]", "امتیاز هر خرید")
    manager.select_option("select[name=kind]", "spend")
    manager.fill("input[name=points]", "۱۰")
    manager.fill("input[name=per_amount]", "۱٬۰۰۰٬۰۰۰")
    shot(manager, "club-rule-form-fa")
    manager.click("form[data-rule-form] button[type=submit]")
    manager.wait_for_url(live_server("/loyalty/rules"))
    row = manager.inner_text("[data-rules] tbody tr")
    assert "امتیاز هر خرید" in row
    assert "۱۰" in row
    assert "۱٬۰۰۰٬۰۰۰" in row
    # the preview: a purchase of 45,000,000 earns 450 points
    manager.fill("[data-rule-preview] input[name=amount]", "۴۵٬۰۰۰٬۰۰۰")
    manager.click("[data-rule-preview] button")
    manager.wait_for_selector("[data-preview-result]")
    assert "۴۵۰" in manager.inner_text("[data-preview-total]")
    assert not _latin_digits_outside_bdi(manager)
    shot(manager, "club-rules-fa")

    # 2. An invoice for two laptops is made and posted in sales.
    manager.goto(live_server("/sales/invoices/new"))
    manager.select_option("select[name=customer_id]", str(customer))
    manager.select_option("select[name='lines-0-product_id']", str(product))
    manager.fill("input[name='lines-0-quantity']", "۲")
    manager.click("form[data-invoice-form] button[value=save]")
    manager.wait_for_selector("[data-post-invoice]")
    manager.wait_for_load_state("load")  # peyvand.js (deferred) asks before posting
    manager.click("[data-post-invoice]")
    manager.click("#crm-confirm [data-confirm-ok]")
    manager.wait_for_selector("[data-immutable]")
    with app.app_context():
        invoice = db.session.execute(select(Invoice)).scalar_one()
        assert (invoice.status, invoice.total) == ("posted", 99_000_000)  # 90,000,000 + 10%
        member = member_of(customer)
        assert member is not None and member.enrolled_via == "purchase"
        member_id = member.id
        points = member.balance
    # 10 points per 1,000,000 of what the customer paid (VAT included): 99,000,000 → 990
    assert points == 990, points

    # 3. The member page shows the points and the invoice they came from.
    manager.goto(live_server("/loyalty/members"))
    manager.click(f"a[href='/loyalty/members/{member_id}']")
    manager.wait_for_url(live_server(f"/loyalty/members/{member_id}"))
    assert manager.inner_text("[data-balance]").strip() == "۹۹۰"
    assert manager.inner_text("[data-pending]").strip() == "۰"
    earned = manager.inner_text("[data-history] tr[data-kind=earn]")
    assert "+۹۹۰" in earned
    assert not _latin_digits_outside_bdi(manager)
    shot(manager, "club-member-fa")
    assert_clean(manager)

    # 4. The customer signs in to the portal with the code sent by SMS and sees the points.
    context, customer_page = _watched_page(browser, live_server)
    try:
        customer_page.goto(live_server("/portal/"))
        customer_page.wait_for_url(re.compile(r"/portal/sign-in"))
        customer_page.fill("input[name=address]", "۰۹۱۲ ۳۴۵ ۶۷۸۹")
        before = len(sms_gateway.requests)
        customer_page.click("[data-portal-sign-in] button[type=submit]")
        customer_page.wait_for_url(re.compile(r"/portal/code"))
        customer_page.fill("input[name=code]", _wait_for_code(sms_gateway, before))
        customer_page.click("[data-portal-code] button[type=submit]")
        customer_page.wait_for_url(live_server("/portal/"))
        customer_page.goto(live_server("/portal/club/"))
        assert customer_page.get_attribute("html", "dir") == "rtl"
        assert customer_page.inner_text("[data-balance]").strip() == "۹۹۰"
        assert customer_page.inner_text("[data-pending]").strip() == "۰"
        assert "۹۹۰" in customer_page.inner_text("[data-history] tr[data-entry=earn]")
        assert not _latin_digits_outside_bdi(customer_page)
        shot(customer_page, "club-portal-points-fa")

        # 5. ... and redeems the 10% coupon for 300 points; the code is shown at once.
        customer_page.click("a[href='/portal/club/rewards']")
        customer_page.wait_for_url(live_server("/portal/club/rewards"))
        assert "۹۹۰" in customer_page.inner_text("main")
        card = customer_page.locator(f"[data-reward='{reward}']")
        assert "۳۰۰" in card.inner_text()  # its cost in points
        card.locator(f"[data-redeem='{reward}']").click()
        customer_page.wait_for_selector("[data-coupons]")
        with app.app_context():
            coupon = db.session.execute(select(Coupon)).scalar_one()
            code = coupon.code
            assert coupon.customer_id == customer and coupon.status == "issued"
            redemption = db.session.execute(select(Redemption)).scalar_one()
            assert (redemption.points, redemption.channel) == (300, "portal")
            assert member_of(customer).balance == 690
        assert code in customer_page.inner_text("[data-flash=success]")
        assert customer_page.locator(f"[data-coupon='{code}']").count() == 1
        customer_page.goto(live_server("/portal/club/"))
        assert customer_page.inner_text("[data-balance]").strip() == "۶۹۰"
        shot(customer_page, "club-portal-coupon-fa")
        assert_clean(customer_page)
    finally:
        context.close()

    # 6. The agent puts the code on a quote for one laptop and sees 10% off.
    context, agent = _watched_page(browser, live_server)
    try:
        sign_in(agent, live_server, "agent@example.ir")
        agent.goto(live_server("/sales/quotes/new"))
        agent.select_option("select[name=customer_id]", str(customer))
        agent.select_option("select[name='lines-0-product_id']", str(product))
        agent.fill("input[name='lines-0-quantity']", "۱")
        agent.click("form[data-quote-form] button[value=save]")
        agent.wait_for_selector("[data-coupon-form]")
        agent.fill("[data-coupon-form] input[name=code]", code)
        agent.click("[data-coupon-apply]")
        agent.wait_for_selector(f"[data-quote-coupon='{code}']")
        # 10% of 45,000,000 = 4,500,000 off; VAT 10% on the rest: 44,550,000
        assert "۴٬۵۰۰٬۰۰۰ ریال" in agent.inner_text("[data-flash=success]")
        assert "۴٬۵۰۰٬۰۰۰ ریال" in agent.inner_text(f"[data-quote-coupon='{code}']")
        assert agent.inner_text("[data-totals] [data-total]").strip() == "۴۴٬۵۵۰٬۰۰۰ ریال"
        assert agent.inner_text("[data-coupon-code]").strip() == code
        shot(agent, "club-quote-coupon-fa")
        assert_clean(agent)
    finally:
        context.close()
    with app.app_context():
        quote = db.session.execute(select(Quote)).scalar_one()
        coupon = db.session.execute(select(Coupon)).scalar_one()
        assert coupon.status == "used"
        assert quote.customer_id == customer
