"""Helpers for the e-invoice tests: the company, a buyer with official fields, two products,
the e-invoice settings, and a real HTTP endpoint on 127.0.0.1 that records what it gets."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core.extensions import db
from tests.modules.sales.document_helpers import (
    make_buyer,
    make_invoice,
    make_product,
    set_company,
    user,
)

MEMORY_ID = "A1B2C3"
SSTID = "2330001234567"


def seed(app, make_user, *, enabled=False, endpoint="") -> dict:
    """An admin with seats, the company, a buyer (organisation), a laptop and a setup service
    (the setup's code is a 13-digit product/service id), and the e-invoice settings."""
    from modules.accounting_link import moadian_submit

    make_user(seats=["sales", "accounting_link"], locale="en")
    set_company(app)
    with app.app_context():
        moadian_submit.save_settings(moadian_submit.MoadianSettings(
            memory_id=MEMORY_ID, endpoint=endpoint, enabled=enabled, sstid=SSTID,
            unit_code="1627"))
        db.session.commit()
    return {"customer": make_buyer(app),
            "laptop": make_product(app, price=1_200_000),
            "setup": make_product(app, code="2720000000017", name="نصب", price=500_000,
                                  kind="service")}


def two_line_invoice(app, seeded, **kw) -> int:
    """2 laptops at 10% off + 1 setup, 100,000 off the document, 10% VAT; posted.

    laptops 2,400,000 − 240,000 − 81,203 = 2,078,797 + VAT 207,880 = 2,286,677;
    setup 500,000 − 18,797 = 481,203 + VAT 48,120 = 529,323; total 2,816,000.
    """
    return make_invoice(app, seeded["customer"],
                        [{"product_id": seeded["laptop"], "quantity": 2, "discount_percent": 10},
                         {"product_id": seeded["setup"], "quantity": 1}],
                        post=True, discount=100_000, **kw)


def credit_note(app, invoice_id, items=None) -> int:
    from modules.sales import invoices
    from modules.sales.models.documents import Invoice

    with app.test_request_context("/", method="POST"):
        note = invoices.create_credit_note(db.session.get(Invoice, invoice_id), items, by=user())
        db.session.commit()
        note_id = note.id
        invoices.post_invoice(note_id, by=user())
        db.session.commit()
    return note_id


def einvoice(invoice_id, subject=None):
    from modules.accounting_link.moadian_submit import record_of

    return record_of(invoice_id, subject)


def build(app, invoice_id):
    """Build the e-invoice of a posted document by hand; returns the record's id."""
    from modules.accounting_link.moadian_submit import build_einvoice
    from modules.sales.models.documents import Invoice

    with app.test_request_context():
        record = build_einvoice(db.session.get(Invoice, invoice_id), by=user())
        db.session.commit()
        return record.id


class Endpoint:
    """A real HTTP server on 127.0.0.1 that keeps each POST and answers as told."""

    def __init__(self):
        self.received: list[dict] = []
        self.statuses: list[int] = []  # answers to give, in order; then 200
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with endpoint.lock:
                    endpoint.received.append({"headers": dict(self.headers),
                                              "json": json.loads(body)})
                    status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                answer = json.dumps({"referenceNumber": f"R{len(endpoint.received)}"}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/moadian"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
