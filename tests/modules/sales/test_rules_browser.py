"""In a real browser (fa): build a quote, see the suggested cross-sell product, add it from the
suggestion, and save a quote with both lines."""

import pytest

from core.extensions import db
from tests.browser import assert_clean, htmx_settled, shot, sign_in
from tests.modules.sales.document_helpers import make_buyer, make_product
from tests.modules.sales.test_rules import add_invoices


@pytest.mark.e2e
def test_quote_with_a_suggested_cross_sell_product(app, browser_page, live_server, make_user):
    from modules.sales import rules
    from modules.sales.models.documents import Quote

    make_user(name="کارشناس فروش", seats=["sales"], locale="fa")
    laptop = make_product(app, code="LAP-1", name="لپ تاپ اداری", price=45_000_000)
    printer = make_product(app, code="PRN-1", name="چاپگر لیزری", price=9_000_000)
    mouse = make_product(app, code="MOU-1", name="ماوس", price=500_000)
    history = make_buyer(app, owner_email=None, display_name="مشتری قدیمی",
                         legal_name="شرکت قدیمی", national_id="", economic_code="", emails=[])
    add_invoices(app, history, [[laptop, printer]] * 4 + [[laptop]] + [[mouse]] * 5)
    with app.app_context():
        rules.set_thresholds(min_support=0.1, min_confidence=0.5, min_lift=1.5, min_count=3)
        db.session.commit()
        rules.mine()
    customer = make_buyer(app, owner_email=None)

    page = browser_page
    sign_in(page, live_server, "admin@example.ir")
    page.goto(live_server("/sales/quotes/new"))
    # the customer's change redraws the suggestions box (htmx, 200 ms later): a change made
    # before the new box has settled has no handler to hear it, so wait for that first
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true",
                              timeout=30_000):
        page.select_option("select[name=customer_id]", str(customer))
    htmx_settled(page)
    page.fill("input[name='lines-0-quantity']", "۱")
    assert page.locator("[data-suggestions]").count() == 0
    page.select_option("select[name='lines-0-product_id']", str(laptop))
    page.wait_for_selector("[data-suggestions]", timeout=30_000)  # refreshed by htmx, no reload
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-preview]").count() == 0
    box = page.locator("[data-suggestions]")
    assert "چاپگر لیزری" in box.inner_text()
    assert "ماوس" not in box.inner_text()  # bought alone: no rule
    assert "۸۰" in box.inner_text()  # confidence 4/5 of the laptop invoices
    shot(page, "sales-quote-suggestions-fa")
    page.click(f"[data-add-suggestion='{printer}']")
    page.wait_for_selector("select[name='lines-1-product_id']")
    assert page.input_value("select[name='lines-1-product_id']") == str(printer)
    assert page.input_value("input[name='lines-1-unit_price']") == "۹٬۰۰۰٬۰۰۰"
    assert page.locator("[data-suggestions]").count() == 0  # nothing left to suggest
    page.click("form[data-quote-form] button[value=save]")
    page.wait_for_selector("[data-send-form]")
    assert_clean(page)

    with app.app_context():
        quote = db.session.query(Quote).one()
        assert sorted(line.product_id for line in quote.current.lines) == sorted(
            [laptop, printer])
