"""In a real browser (fa): build a quote, download its PDF, send it, record the customer's
yes, invoice the order, post the invoice, record a cheque payment."""

import re
import subprocess

import pytest

from core.extensions import db
from tests.browser import assert_clean, shot, sign_in
from tests.core.messaging.servers import SmtpServer
from tests.modules.sales.document_helpers import make_buyer, make_product, set_company

LATIN_DIGIT = re.compile(r"[0-9]")


def _visible_latin_digits(page, selector: str) -> list[str]:
    """Latin digits in what the reader sees in an element (fa pages show Persian digits)."""
    return LATIN_DIGIT.findall(page.inner_text(selector))


@pytest.mark.e2e
def test_quote_pdf_invoice_and_cheque_in_persian(app, browser_page, live_server, make_user,
                                                  tmp_path):
    from core.database import set_setting
    from modules.sales.models.documents import Invoice
    from modules.sales.models.payments import Payment

    make_user(name="مدیر فروش", seats=["sales"], locale="fa")
    set_company(app)
    customer = make_buyer(app)
    product = make_product(app, code="LAP-1", name="لپ تاپ اداری", price=45_000_000)
    smtp = SmtpServer().start()
    with app.app_context():
        for key, value in {"host": smtp.host, "port": smtp.port, "tls": "none",
                           "from": "crm@peyvand.test"}.items():
            set_setting(f"smtp.{key}", value)
        db.session.commit()

    try:
        page = browser_page
        sign_in(page, live_server, "admin@example.ir")
        page.goto(live_server("/sales/quotes/"))
        assert page.locator("[data-empty-state]").count() == 1
        page.click("[data-new-quote]")
        page.select_option("select[name=customer_id]", str(customer))
        page.select_option("select[name='lines-0-product_id']", str(product))
        page.fill("input[name='lines-0-quantity']", "۲")
        page.fill("input[name='lines-0-discount_percent']", "۵")
        page.click("[data-recalc]")
        page.wait_for_selector("[data-preview]")
        # 2 × 45,000,000 − 5% = 85,500,000; VAT 10% → 94,050,000
        assert page.inner_text("[data-preview-total]").strip() == "۹۴٬۰۵۰٬۰۰۰ ریال"
        assert page.input_value("input[name='lines-0-unit_price']") == "۴۵٬۰۰۰٬۰۰۰"
        page.click("[data-add-line]")
        page.fill("input[name='lines-1-description']", "نصب و راه اندازی")
        page.fill("input[name='lines-1-quantity']", "۱٫۵")
        page.fill("input[name='lines-1-unit']", "ساعت")
        page.fill("input[name='lines-1-unit_price']", "۲٬۰۰۰٬۰۰۰")
        shot(page, "sales-quote-form-fa")
        page.click("form[data-quote-form] button[value=save]")
        page.wait_for_selector("[data-send-form]")
        assert page.inner_text("[data-totals] [data-total]").strip() == "۹۷٬۳۵۰٬۰۰۰ ریال"
        assert not _visible_latin_digits(page, "main")

        with page.expect_download() as download:
            page.click("[data-quote-pdf]")
        pdf = tmp_path / "quote.pdf"
        download.value.save_as(pdf)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "شرکت بازرگانی آلفا" in text and "۹۷٬۳۵۰٬۰۰۰" in text

        page.click("[data-send-form] button[type=submit]")
        page.wait_for_selector("[data-answer-form]")
        assert smtp.wait_for(1, timeout=10), "the quote email did not arrive"
        page.click("[data-answer-form] [data-accept]")
        page.wait_for_selector("[data-order-link]")
        page.click("form [data-invoice-order]")
        page.wait_for_selector("[data-post-invoice]")
        page.wait_for_load_state("load")  # peyvand.js (deferred) asks before posting
        page.click("[data-post-invoice]")
        page.click("#crm-confirm [data-confirm-ok]")  # "post it now? it can never change"
        page.wait_for_selector("[data-immutable]")
        assert page.locator("[data-edit-invoice]").count() == 0
        shown = page.inner_text("[data-number]")
        assert shown.strip().startswith("\u2066")  # isolated: it reads ۱۴۰۵-۱, never ۱-۱۴۰۵
        number = re.sub("[\u2066-\u2069]", "", shown).strip()
        assert re.fullmatch(r"[۰-۹]{4}-۱", number), number
        shot(page, "sales-invoice-posted-fa")

        page.click("[data-record-payment]")
        page.wait_for_selector("[data-payment-form]")
        assert page.input_value("input[name=amount]") == "۹۷٬۳۵۰٬۰۰۰"
        page.fill("input[name=amount]", "۵۰٬۰۰۰٬۰۰۰")
        page.check("input[name=method][value=cheque]")
        page.fill("input[name=sayad_number]", "۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶")
        page.fill("input[name=bank]", "ملت")
        page.fill("input[name=cheque_due_date]", "۱۴۰۵/۱۰/۰۱")
        page.keyboard.press("Escape")
        shot(page, "sales-cheque-form-fa")
        page.click("form[data-payment-form] button[value=save]")
        page.wait_for_selector("[data-cheque-status=received]")
        assert page.inner_text("[data-sayad]").strip() == "۱۲۳۴۵۶۷۸۹۰۱۲۳۴۵۶"
        page.click("[data-to-status=deposited]")
        page.wait_for_selector("[data-cheque-status=deposited]")
        shot(page, "sales-cheque-fa")
        assert_clean(page)
    finally:
        smtp.stop()

    with app.app_context():
        invoice = db.session.query(Invoice).one()
        payment = db.session.query(Payment).one()
        assert (invoice.status, invoice.total) == ("posted", 97_350_000)
        assert (payment.method, payment.status, payment.amount) == ("cheque", "deposited",
                                                                    50_000_000)
        assert [a.invoice_id for a in payment.allocations] == [invoice.id]
