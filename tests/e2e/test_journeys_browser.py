"""Every module's main journey in real Chromium, in Persian and in English, with layout checks.

One app (the demo data plus a posted invoice), one live server and one Chromium for the whole
module; each test is a short walk through real pages as the demo's admin, asserting what the
reader sees. On every page visited: ``dir`` is rtl in fa and ltr in en, nothing scrolls
sideways, the brand and the menu start on the right in fa (on the left in en), and fa pages show
no Latin digits outside ``<bdi>`` (codes, emails and URLs keep theirs), in the title, the
placeholders or the input buttons either.

Screenshots go to CRM_UI_SCREENSHOTS (e.g. /tmp/journeys) when it is set.
"""

import random
import re
import threading
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from config import TestConfig
from core.extensions import db
from tests.browser import _WATCH_CSP, LiveServer, assert_clean, htmx_settled, shot

pytestmark = pytest.mark.e2e

LOCALES = ("fa", "en")
WIDTH = 1280
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# Text nodes of the page with a Latin digit, outside <bdi> and anything not shown.
_LATIN_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !/[0-9]/.test(node.textContent)) continue;
    if (el.closest("bdi, script, style, template, noscript")) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    out.push(node.textContent.trim());
  }
  return out;
}"""
# What the reader sees that is no text node: the window's title, the hints in empty fields
# and the words on input buttons (outside <bdi> and anything not shown).
_LATIN_ATTRIBUTES = """() => {
  const out = [];
  if (/[0-9]/.test(document.title)) out.push("title: " + document.title);
  const shown = (el) => !el.closest("bdi, template") &&
                        el.checkVisibility({visibilityProperty: true});
  for (const el of document.querySelectorAll("[placeholder]")) {
    const text = el.getAttribute("placeholder");
    if (/[0-9]/.test(text) && shown(el)) out.push("placeholder: " + text);
  }
  for (const el of document.querySelectorAll(
      "input[type=submit][value], input[type=button][value], input[type=reset][value]")) {
    if (/[0-9]/.test(el.value) && shown(el)) out.push("button: " + el.value);
  }
  return out;
}"""
_EMAIL_OR_URL = re.compile(r"\S+@\S+\.\S+|\bhttps?://\S+|\b[\w.-]+\.(?:ir|com|local|test)\b")


def tag() -> str:
    """A short mark that tells this run's records apart (digits as the reader writes them)."""
    return str(random.randint(1000, 9999)).translate(PERSIAN)


def money(app, rials: int, locale: str) -> str:
    """``rials`` as the pages show money: in the deployment's unit (the demo shows tomans)."""
    from core.money import format_money

    with app.app_context():
        return format_money(rials, locale=locale)


def num(value: int, locale: str) -> str:
    """``value`` as the pages show it: grouped, Persian digits and ٬ in fa."""
    text = f"{value:,}"
    return text.translate(PERSIAN).replace(",", "٬") if locale == "fa" else text


# --- one app, one server for the module ------------------------------------------------------

@pytest.fixture(scope="module")
def journey_app(tmp_path_factory):
    """The demo deployment (``crm demo``) plus a posted invoice, on a fresh database."""
    from core import create_app
    from core.bootstrap import ensure_deployment
    from tests.conftest import PG_URL, _drop_schema, _fresh_postgres_schema

    folder = tmp_path_factory.mktemp("journeys")
    overrides = {"CRM_UPLOAD_DIR": str(folder / "uploads")}
    schema = None
    if PG_URL:
        url, schema = _fresh_postgres_schema(PG_URL)
        overrides.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS={
            "connect_args": {"options": f"-csearch_path={schema}"}})
    else:
        overrides.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'crm.db'}",
                         SQLALCHEMY_ENGINE_OPTIONS={})
    app = create_app(TestConfig, **overrides)
    with app.app_context():
        db.create_all()
        ensure_deployment()
        app.journey = _seed(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if schema:
        _drop_schema(url, schema)


def _seed(app) -> dict:
    """The demo, then an organisation buying two laptops on a posted invoice (club points and a
    journal entry follow); returns the ids and numbers the journeys look for."""
    from core.demo import DEMO_ADMIN, load_demo
    from modules.loyalty.members import member_of
    from modules.marketing import segments
    from modules.marketing.models.segments import Segment
    from modules.sales.models.catalog import Product
    from modules.sales.models.documents import Invoice
    from modules.sales.models.pipeline import Deal
    from tests.modules.sales.document_helpers import make_buyer, make_invoice

    with app.test_request_context():
        load_demo(app)
        db.session.commit()
        laptop = db.session.execute(select(Product).where(Product.code == "LAP-01")).scalar_one()
        laptop_id, laptop_price = laptop.id, laptop.price
        deal = db.session.execute(select(Deal).where(Deal.title == "ارتقای لپ‌تاپ‌های واحد مالی")
                                  ).scalar_one()
        deal_id = deal.id
        segment = db.session.execute(select(Segment).where(Segment.name == "مشتریان تهران")
                                     ).scalar_one()
        segment_id, segment_count = segment.id, segments.count(segment)
    buyer = make_buyer(app, owner_email=DEMO_ADMIN, display_name="شرکت آلفا تجارت",
                       legal_name="شرکت آلفا تجارت پارس")
    invoice_id = make_invoice(app, buyer, [{"product_id": laptop_id, "quantity": 2}],
                              email=DEMO_ADMIN, post=True)
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        member = member_of(buyer)
        return {"buyer": buyer, "invoice": invoice_id, "invoice_total": invoice.total,
                "invoice_reference": invoice.reference, "laptop": laptop_id,
                "laptop_price": laptop_price, "deal": deal_id, "segment": segment_id,
                "segment_count": segment_count, "member": member.id,
                "points": member.balance}


@pytest.fixture(scope="module")
def journey_server(journey_app):
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, journey_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="journey-server", daemon=True)
    thread.start()
    yield LiveServer(app=journey_app, url=f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def data(journey_app) -> dict:
    return journey_app.journey


@pytest.fixture(params=LOCALES)
def locale(request, journey_app) -> str:
    """The language of the test; stored on the demo admin, who chose it before."""
    from core.auth.models import User
    from core.demo import DEMO_ADMIN

    with journey_app.app_context():
        admin = db.session.execute(select(User).where(User.email == DEMO_ADMIN)).scalar_one()
        admin.locale = request.param
        db.session.commit()
    return request.param


@pytest.fixture
def page(browser, journey_server):
    """A new page with its own cookies, watched for console errors and CSP violations."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 860},
                                  base_url=journey_server.url)
    context.set_default_timeout(10_000)
    new = context.new_page()
    new.crm_problems = problems = []
    new.add_init_script(_WATCH_CSP)
    new.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
           if msg.type in ("error", "warning") else None)
    new.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    new.on("response", lambda res: problems.append(f"HTTP {res.status}: {res.url}")
           if res.status >= 400 else None)
    yield new
    context.close()


def sign_in(page, locale: str) -> None:
    from core.demo import DEMO_ADMIN, DEMO_PASSWORD

    page.goto("/auth/login")
    page.fill("input[name=email]", DEMO_ADMIN)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_attribute("html", "lang") == locale


# --- the layout checks -------------------------------------------------------------------------

def latin_digits(page) -> list[str]:
    """Visible text outside <bdi>, the title, placeholders and input buttons with Latin digits,
    emails and URLs left out."""
    found = []
    for text in page.evaluate(_LATIN_TEXT) + page.evaluate(_LATIN_ATTRIBUTES):
        rest = _EMAIL_OR_URL.sub("", text)
        if re.search(r"[0-9]", rest):
            found.append(text)
    return found


def check_layout(page, locale: str, name: str) -> None:
    """Direction, no sideways scrolling, the menu's side, and (fa) Persian digits only."""
    where = f"{name} ({locale}, {page.url})"
    assert page.get_attribute("html", "dir") == ("rtl" if locale == "fa" else "ltr"), where
    overflow = page.evaluate("document.documentElement.scrollWidth - "
                             "document.documentElement.clientWidth")
    assert overflow <= 0, f"{where} scrolls sideways by {overflow}px"
    if page.locator("[data-menu=modules]").count():
        brand = page.locator(".crm-brand").bounding_box()
        centre = brand["x"] + brand["width"] / 2
        menu = page.locator("[data-menu=modules]").bounding_box()
        if locale == "fa":
            assert centre > WIDTH / 2 and brand["x"] > menu["x"], f"{where}: menu not on the right"
        else:
            assert centre < WIDTH / 2 and brand["x"] < menu["x"], f"{where}: menu not on the left"
    if locale == "fa":
        found = latin_digits(page)
        assert not found, f"{where} shows Latin digits: {found}"
    shot(page, f"journey-{name}-{locale}")


# --- the journeys ------------------------------------------------------------------------------

def test_core_sign_in_customer_360_note_and_task(page, locale, data):
    page.goto("/auth/login")
    if locale == "en":  # the sign-in page speaks the deployment's language until asked
        assert page.get_attribute("html", "dir") == "rtl"
        page.click("[data-language=en]")
        page.wait_for_function("() => document.documentElement.lang === 'en'")
    check_layout(page, locale, "login")
    sign_in(page, locale)
    check_layout(page, locale, "dashboard")

    page.click("[data-menu-entry='customers.index']")
    page.wait_for_url(re.compile(r"/customers/"))
    page.fill("input[type=search][name=q]", "آلفا تجارت")
    page.press("input[type=search][name=q]", "Enter")
    row = page.locator(f"tr[data-customer='{data['buyer']}']")
    row.wait_for()
    check_layout(page, locale, "customers")
    row.locator("a").first.click()
    page.wait_for_url(re.compile(rf"/customers/{data['buyer']}$"))
    assert "شرکت آلفا تجارت" in page.inner_text("h1")
    check_layout(page, locale, "customer-360")

    note = f"تماس گرفتم، پیش‌فاکتور جدید می‌خواهند ({tag()})"
    page.fill("[data-note-form] textarea[name=body]", note)
    page.click("[data-note-form] button[type=submit]")
    page.wait_for_selector(f"[data-timeline] >> text={note}")
    task = f"پیگیری پیش‌فاکتور {tag()}"
    page.fill("[data-task-form] input[name=title]", task)
    page.click("[data-task-form] button[type=submit]")
    page.wait_for_selector(f"text={task}")
    check_layout(page, locale, "customer-360-after")
    assert_clean(page)


def test_sales_deal_to_quote_and_invoice_pdf(page, locale, data, journey_app):
    sign_in(page, locale)
    page.goto("/sales/deals")
    page.click(f"tr[data-deal='{data['deal']}'] a")
    page.wait_for_url(re.compile(rf"/sales/deals/{data['deal']}$"))
    assert "ارتقای لپ‌تاپ‌های واحد مالی" in page.inner_text("h1")
    check_layout(page, locale, "deal")

    page.click("[data-new-quote]")
    page.wait_for_selector("[data-quote-deal]")
    # the deal's four laptops come along
    assert page.input_value("select[name='lines-0-product_id']") == str(data["laptop"])
    assert page.input_value("input[name='lines-0-quantity']") == num(4, locale)
    check_layout(page, locale, "quote-form")
    page.click("form[data-quote-form] button[value=save]")
    page.wait_for_selector("[data-deal-link]")
    total = money(journey_app, data["laptop_price"] * 4 * 110 // 100, locale)  # VAT 10%
    assert page.inner_text("[data-totals] [data-total]").strip() == total
    check_layout(page, locale, "quote")

    page.goto(f"/sales/invoices/{data['invoice']}")
    assert page.inner_text("[data-totals] [data-total]").strip() == money(
        journey_app, data["invoice_total"], locale)
    check_layout(page, locale, "invoice")
    pdf = page.request.get(page.get_attribute("[data-invoice-pdf]", "href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    assert_clean(page)


def test_service_ticket_create_reply_close(page, locale, data):
    sign_in(page, locale)
    page.goto("/service/tickets")
    check_layout(page, locale, "tickets")
    page.click("a[href='/service/tickets/new']")
    # a pause while typing sends a search for part of the name first: choose only once the
    # options for the whole name are in and settled, or they redraw the select after the choice
    search = "آلفا تجارت"
    with page.expect_response(lambda r: parse_qs(urlparse(r.url).query).get("customer_q")
                              == [search], timeout=30_000):
        page.locator("#customer-search").press_sequentially(search, delay=10)
    htmx_settled(page)
    page.wait_for_selector(f"select[name=customer_id] option[value='{data['buyer']}']",
                           state="attached")
    page.select_option("select[name=customer_id]", str(data["buyer"]))
    subject = f"لپ‌تاپ روشن نمی‌شود {tag()}"
    page.fill("input[name=subject]", subject)
    page.fill("textarea[name=body]", "از دیروز با زدن دکمه روشن نمی‌شود.")
    check_layout(page, locale, "ticket-form")
    page.click("form[data-ticket-form] button[type=submit]")
    page.wait_for_selector("[data-reply-form]")
    assert subject in page.inner_text("h1")

    page.check("[data-reply-form] input[name=kind][value=public]")
    page.fill("[data-reply-form] textarea[name=body]", "سلام، لطفاً باتری را جدا و وصل کنید.")
    page.click("[data-reply-form] button[type=submit]")
    page.wait_for_selector("[data-message=public] >> text=لطفاً باتری را جدا و وصل کنید")
    check_layout(page, locale, "ticket")
    page.select_option("[data-change-form] select[name=status]", "closed")
    page.click("[data-change-form] button[type=submit]")
    page.wait_for_selector("[data-flash=success]")
    assert page.locator("[data-status=closed]").count() >= 1
    check_layout(page, locale, "ticket-closed")
    assert_clean(page)


def test_marketing_segment_count_then_campaign_draft(page, locale, data, journey_app):
    from modules.marketing.models.campaigns import Campaign

    sign_in(page, locale)
    page.goto("/marketing/segments")
    check_layout(page, locale, "segments")
    page.click(f"tr[data-segment='{data['segment']}'] a")
    page.wait_for_url(re.compile(rf"/marketing/segments/{data['segment']}$"))
    assert num(data["segment_count"], locale) in page.inner_text("[data-total]")
    check_layout(page, locale, "segment")

    page.goto("/marketing/campaigns")
    page.click("[data-new-campaign]")
    name = f"جشنواره پاییزه {tag()}"
    page.fill("input[name=name]", name)
    page.select_option("select[name=channel]", "sms")
    page.select_option("select[name=segment_id]", str(data["segment"]))
    page.fill("textarea[name=body_text]", "{{ first_name }} عزیز، تخفیف پاییزه شروع شد.")
    check_layout(page, locale, "campaign-form")
    page.click("form[data-campaign-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/marketing/campaigns/\d+$"))
    assert name in page.inner_text("h1")
    check_layout(page, locale, "campaign")
    with journey_app.app_context():
        campaign = db.session.execute(select(Campaign).where(Campaign.name == name)).scalar_one()
        assert (campaign.status, campaign.channel, campaign.segment_id) == (
            "draft", "sms", data["segment"])
    assert_clean(page)


def test_loyalty_member_page(page, locale, data):
    sign_in(page, locale)
    page.goto("/loyalty/members")
    check_layout(page, locale, "club-members")
    page.click(f"a[href='/loyalty/members/{data['member']}']")
    page.wait_for_url(re.compile(rf"/loyalty/members/{data['member']}$"))
    assert "شرکت آلفا تجارت" in page.inner_text("h1")
    assert page.inner_text("[data-balance]").strip() == num(data["points"], locale)
    assert page.locator("[data-history] tr[data-kind=earn]").count() >= 1
    check_layout(page, locale, "club-member")
    assert_clean(page)


def test_accounting_journal_then_trial_balance(page, locale, data, journey_app):
    sign_in(page, locale)
    page.goto("/accounting/journal")
    entry = page.locator(f"[data-entry-key='sales.invoice:{data['invoice']}']")
    # the receivable in the deployment's unit (the demo shows tomans), like the entry's total
    receivable = money(journey_app, data["invoice_total"], locale).rsplit(" ", 1)[0]
    assert receivable in entry.locator("[data-line-role=receivables]").inner_text()
    check_layout(page, locale, "journal")
    page.click("[data-accounting-nav] a[href='/accounting/trial-balance']")
    page.wait_for_url(re.compile(r"/accounting/trial-balance"))
    debits = page.inner_text("[data-totals] [data-debits]").strip()
    credits = page.inner_text("[data-totals] [data-credits]").strip()
    assert debits == credits  # the books balance
    assert debits != num(0, locale)
    check_layout(page, locale, "trial-balance")
    assert_clean(page)
