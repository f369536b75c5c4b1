"""The ticket list and search at scale: server time of the page vs the bare query.

    .venv/bin/python bench/tickets.py [--count 1000000] [--customers 20000] [--rounds 20]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--sqlite]

Seeds a throwaway deployment (bench/seed.py: a private PostgreSQL schema dropped afterwards,
or SQLite with --sqlite) with customers and ``--count`` tickets written in bulk (COPY), in
every status, type and priority, spread over a year. An admin with a service seat signs in
through the login form; then, in interleaved rounds, for the list's first page and three
searches (a common subject word, a serial number, a reference ``T-000123``, and a word no
ticket holds: the worst case, a scan of every search key):

- **page**: ``GET /service/tickets?...`` through the whole application in process (WSGI,
  session, license/seat/permission gates, record scope, filters, keyset page, Jinja);
- **bare query**: the statement that fetched that page's tickets, recorded from the page's own
  SQL and run on a raw driver connection with ``fetchall()``: the ceiling.

Prints the medians and the ratio page / bare query for each (lower is better).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.kanban import BASE, record_page_sql, signed_in_client  # noqa: E402
from bench.seed import DEFAULT_PG, NOW, Loader, deployment, replay, seed_customers  # noqa: E402

TICKET_COLUMNS = ["id", "subject", "type", "priority", "channel", "status", "customer_id",
                  "product_name", "serial", "owner_id", "search_key", "sla_state",
                  "created_at", "updated_at", "closed_at", "reopened", "public_replies",
                  "first_response_breached", "resolution_breached", "email_thread",
                  "reply_to"]
SUBJECTS = ("تأخیر در ارسال سفارش", "لپ‌تاپ روشن نمی‌شود", "مبلغ فاکتور اشتباه است",
            "راهنمای نصب چاپگر", "درخواست تعویض کارتریج", "کابل شبکه کوتاه ارسال شده",
            "گارانتی مانیتور", "صدای فن دستگاه", "بازگشت وجه", "فعال‌سازی نرم‌افزار")
PRODUCTS = ("لپ‌تاپ ایسوس", "چاپگر اچ‌پی", "مانیتور سامسونگ", "روتر تی‌پی‌لینک", "")
STATUSES = ("new", "open", "open", "waiting_customer", "waiting_third_party", "resolved",
            "closed", "closed", "closed", "closed")
TYPES = ("complaint", "request", "question", "warranty")
PRIORITIES = ("low", "normal", "normal", "high", "urgent")
CHANNELS = ("portal", "email", "sms", "phone", "web")
SLA = ("ok", "ok", "warning", "breached", "met")


def seed_tickets(dep, count: int, customers: int) -> None:
    """``count`` tickets in bulk, oldest first, and a service seat for the admin."""
    from core.admin.services import assign_seat
    from core.auth.models import User
    from core.extensions import db
    from core.i18n import normalize

    app = dep.app()
    with app.app_context():
        assign_seat(db.session.get(User, dep.admin_id), "service")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    rng = random.Random(7)
    span = 365 * 24 * 3600

    def rows():
        for i in range(1, count + 1):
            subject = rng.choice(SUBJECTS)
            product = rng.choice(PRODUCTS)
            serial = f"SN-{i:07d}"
            status = rng.choice(STATUSES)
            created = NOW - timedelta(seconds=span * (count - i) // count)
            closed = created + timedelta(days=2) if status == "closed" else None
            key = normalize(f"T-{i:06d} {subject} {serial} {product}")
            yield (i, subject, rng.choice(TYPES), rng.choice(PRIORITIES), rng.choice(CHANNELS),
                   status, rng.randrange(1, customers + 1), product, serial,
                   dep.admin_id if i % 3 else None, key, rng.choice(SLA), created,
                   closed or created, closed, 0, 1, False, False, "", "")

    loader = Loader(dep)
    loader.drop_indexes(["service_ticket"])
    loader.rows("service_ticket", TICKET_COLUMNS, rows())
    loader.commit()
    loader.finish(["service_ticket"])
    loader.close()


def _bare(statements):
    page = [s for s in statements if "service_ticket" in s[0] and "ORDER BY" in s[0].upper()
            and "core_customer" not in s[0]]
    if len(page) != 1:
        raise RuntimeError(f"expected one ticket page statement, found {len(page)}")
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite instead")
    args = parser.parse_args()

    with deployment(None if args.sqlite else args.database_url) as dep:
        started = time.perf_counter()
        seed_customers(dep, args.customers, verbose=False)
        seed_tickets(dep, args.count, args.customers)
        print(f"{dep.dialect}: {args.customers} customers, {args.count} tickets seeded in "
              f"{time.perf_counter() - started:.1f} s")
        app = dep.app()
        client = signed_in_client(app)
        middle = max(1, args.count // 2)
        urls = {
            "list, first page": "/service/tickets",
            "list, open ones": "/service/tickets?status=open_ones",
            "search subject word": "/service/tickets?q=" + "کارتریج",
            "search serial": f"/service/tickets?q=SN-{middle:07d}",
            "search reference": f"/service/tickets?q=T-{middle:06d}",
            "search, no match": "/service/tickets?q=" + "زلزله",  # the worst case: a full scan
        }
        engine = dep.engine()
        raw = engine.raw_connection()

        results = []
        for label, url in urls.items():
            bare = _bare(record_page_sql(app, client, url))
            html = client.get(url, base_url=BASE).get_data(as_text=True)
            drawn, fetched = html.count("data-ticket="), replay(raw, bare)[1]
            if drawn != min(fetched, 25) or (fetched == 0 and "data-empty-state" not in html):
                raise RuntimeError(f"{label}: the page drew {drawn}, the query fetched {fetched}")
            for _ in range(2):
                client.get(url, base_url=BASE)
                replay(raw, bare)
            page_times, bare_times = [], []
            for _ in range(args.rounds):
                begun = time.perf_counter()
                answer = client.get(url, base_url=BASE)
                page_times.append(time.perf_counter() - begun)
                if answer.status_code != 200:
                    raise RuntimeError(f"{url} answered {answer.status_code}")
                bare_times.append(replay(raw, bare)[0])
            results.append((label, drawn, statistics.median(page_times) * 1000,
                            statistics.median(bare_times) * 1000))
        raw.close()
        engine.dispose()

    print(f"{'':22} {'rows':>5} {'page ms':>9} {'bare ms':>9} {'ratio':>7}")
    for label, drawn, page, bare in results:
        print(f"{label:22} {drawn:5d} {page:9.2f} {bare:9.2f} {page / bare:7.2f}")


if __name__ == "__main__":
    main()
