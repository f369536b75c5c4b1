"""Helpers for the accounting-link import and reconciliation tests: CSV files as accounting
packages export them, and imports run the way the job runs them."""

import csv
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from flask_babel import force_locale

from core.extensions import db

CUSTOMER_HEADERS = ["کد حساب", "نام", "کد ملی", "کد اقتصادی", "موبایل", "شهر", "مانده"]
SALES_HEADERS = ["کد مشتری", "تاریخ", "شماره سند", "مبلغ"]
SETTLEMENT_HEADERS = ["شماره فاکتور", "مبلغ", "تاریخ", "روش پرداخت", "کد پیگیری"]


def write_csv(path, headers, rows) -> str:
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)
    return str(path)


def run(app, kind, path, *, dry_run=False, mapping=None, locale="en", email=None):
    """Import ``path`` as the job does (the suggested mapping unless given); the result."""
    from core.auth.models import User
    from modules.accounting_link.imports import run_file

    with app.test_request_context(), force_locale(locale):
        by = db.session.query(User).filter_by(email=email).one() if email else None
        return run_file(kind, path, mapping, by=by, dry_run=dry_run)


class SettlementServer:
    """The accounting package's settlements endpoint: answers ``rows`` as JSON (or fails)."""

    def __init__(self, rows=None):
        self.rows = list(rows or [])
        self.status = 200
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                outer.calls += 1
                body = json.dumps({"settlements": outer.rows}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/settlements"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
