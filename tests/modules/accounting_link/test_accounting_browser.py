"""In a real browser (fa): map the revenue of a product category to an account, post an
invoice in sales, find its journal entry with that account, watch its delivery to a real
local accounting server go from pending to delivered, then make the server fail until an
entry is dead and retry it from the dead letters until it is delivered."""

import json
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.extensions import db
from tests.browser import assert_clean, shot, sign_in
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    set_company,
    user,
)


class Books:
    """The accounting package's endpoint: 500 while ``failing``, else accepts each
    Idempotency-Key once (``accepted`` counts every key it was sent successfully)."""

    def __init__(self):
        self.failing = False
        self.accepted = Counter()
        self.refused = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.failing:
                    outer.refused += 1
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                entry = json.loads(body or b"{}").get("entry") or {}
                outer.accepted[self.headers.get("Idempotency-Key")] += 1
                answer = json.dumps({"ok": True, "id": entry.get("id")}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/entries"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app_overrides():
    return {"OUTBOX_MAX_ATTEMPTS": 2}


def _relay(app, minutes: int) -> dict:
    """What the worker's periodic relay does, ``minutes`` from now (past every backoff)."""
    from core.database import utcnow
    from core.outbox import relay_once

    with app.app_context():
        return relay_once(now=utcnow() + timedelta(minutes=minutes))


@pytest.mark.e2e
def test_map_post_see_the_entry_deliver_and_retry_a_dead_one(app, browser_page, live_server,
                                                              make_user):
    from core.customers.models import Customer
    from modules.accounting_link import delivery, journal
    from modules.accounting_link.models.journal import Account
    from modules.sales import payments
    from modules.sales.catalog import category_named

    make_user(name="حسابدار", seats=["sales", "accounting_link"], locale="fa")
    set_company(app)
    books = Books()
    with app.app_context():
        category = category_named("رایانه").id
        journal.ensure_default_chart()
        account = Account(code="4109", name="فروش تجهیزات رایانه", kind="income")
        db.session.add(account)
        delivery.save_connector(None, name="دفاتر سپیدار", url=books.url, timeout=3)
        db.session.commit()
        account_id = account.id
    customer = make_buyer(app)
    product = make_product(app, code="PC-1", name="رایانه رومیزی", price=30_000_000,
                           category_id=category)
    invoice = make_invoice(app, customer, [{"product_id": product, "quantity": 1}])
    page = browser_page
    try:
        sign_in(page, live_server, "admin@example.ir")
        # 1. The accountant maps the category's revenue to the chart's 4109.
        page.goto(live_server("/accounting/mapping"))
        page.select_option(f"select[name='role-revenue:{category}']", str(account_id))
        page.click("form[data-mapping-form] button.btn-primary")
        page.wait_for_selector(f"tr[data-role='revenue:{category}'] [data-effective]")
        assert "۴۱۰۹" in page.inner_text(f"tr[data-role='revenue:{category}'] [data-effective]")
        shot(page, "accounting-mapping-fa")

        # 2. The invoice is posted in sales while the accounting server is down.
        books.failing = True
        page.goto(live_server(f"/sales/invoices/{invoice}"))
        page.click("[data-post-invoice]")
        page.click("#crm-confirm [data-confirm-ok]")
        page.wait_for_selector("[data-immutable]")

        # 3. Its journal entry credits the mapped account.
        page.goto(live_server("/accounting/journal"))
        entry = f"[data-entry-key='sales.invoice:{invoice}']"
        revenue = page.inner_text(f"{entry} tr[data-line-role='revenue:{category}']")
        assert "۴۱۰۹" in revenue and "فروش تجهیزات رایانه" in revenue
        assert "۳۰٬۰۰۰٬۰۰۰" in revenue
        shot(page, "accounting-journal-fa")

        # 4. Pending on the deliveries page (the first try failed) ... then delivered.
        page.goto(live_server("/accounting/deliveries"))
        row = page.locator("[data-delivery]").first
        assert row.get_attribute("data-status") == "pending"
        assert books.refused == 1
        books.failing = False
        assert _relay(app, 10)["delivered"] == 1
        page.wait_for_selector("[data-delivery][data-status='delivered']",
                               timeout=30_000)  # polled every 3 s; busy CI machines
        assert page.locator("[data-delivery][data-status='pending']").count() == 0
        shot(page, "accounting-delivered-fa")

        # 5. The server fails every try of the next entry (a card payment) until it is dead.
        books.failing = True
        with app.test_request_context():
            payments.record_payment(db.session.get(Customer, customer), amount=10_000_000,
                                    method="card", by=user())
            db.session.commit()
        _relay(app, 10)
        assert _relay(app, 60)["dead"] == 1
        page.goto(live_server("/accounting/deliveries"))
        dead = page.locator("[data-dead] [data-dead-message]")
        assert dead.count() == 1
        shot(page, "accounting-dead-fa")

        # 6. Retried from the dead letters once the server is back: delivered.
        books.failing = False
        dead.first.locator("[data-retry]").click()
        page.wait_for_selector("[data-no-dead]")
        assert page.locator("[data-delivery][data-status='delivered']").count() == 2
        assert_clean(page)
    finally:
        books.stop()
    assert sorted(books.accepted.values()) == [1, 1]  # each entry delivered exactly once
