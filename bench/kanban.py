"""The kanban board with 5,000 open deals: server time of the page vs the bare query.

    .venv/bin/python bench/kanban.py [--deals 5000] [--customers 2000] [--rounds 30]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Seeds a throwaway deployment (bench/seed.py: SQLite, or a private PostgreSQL schema dropped
afterwards) with customers and one pipeline of four stages holding ``--deals`` open deals,
written in bulk. An admin with a sales seat signs in through the login form; then, in
interleaved rounds:

- **page**: ``GET /sales/board`` through the whole application in process (WSGI, session,
  license/seat/permission gates, scoped queries, ORM, Jinja, 80 cards: ``CARD_LIMIT`` = 20
  per stage), timed around the request: the server's time without a network;
- **bare query**: the statement that fetches the same deals the board draws (the largest
  ``CARD_LIMIT`` of each stage, one LIMIT per stage), recorded from the page's own SQL and
  run on a raw driver connection with ``fetchall()``: the ceiling;
- **page SQL**: every statement the page runs (session user, license, counts and sums, cards),
  run the same bare way: what the database alone costs the page;
- for reference, the board of an empty pipeline: the page's fixed cost (layout, menus, gates).

Prints the medians and the ratios page / bare query and page / page SQL (lower is better; the
page also renders and serialises what the query fetched).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import (  # noqa: E402
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    NOW,
    Loader,
    deployment,
    replay,
    seed_customers,
)

DEAL_COLUMNS = ["id", "title", "customer_id", "pipeline_id", "stage_id", "value", "currency",
                "expected_close", "owner_id", "source", "campaign", "status", "lost_reason",
                "competitor", "stage_changed_at", "last_activity_at", "search_key",
                "created_at", "updated_at"]
WORDS = ("تجهیز", "دفتر", "شبکه", "لپ‌تاپ", "چاپگر", "سرور", "نصب", "پشتیبانی", "قرارداد",
         "سالانه", "شعبه", "انبار")
BASE = "https://localhost"  # the session cookie is Secure


def setup(dep, n_deals: int, n_customers: int) -> int:
    """A pipeline, a sales seat for the admin, ``n_deals`` open deals; returns the pipeline id."""
    from core.admin.services import assign_seat
    from core.auth.models import User
    from core.extensions import db
    from core.i18n import normalize
    from modules.sales.pipeline import save_pipeline

    app = dep.app()
    with app.app_context():
        pipeline = save_pipeline(None, "فروش سازمانی", [
            {"name": n, "probability": p} for n, p in
            (("سرنخ", 10), ("تماس اولیه", 25), ("ارائه", 50), ("مذاکره", 75))])
        save_pipeline(None, "خالی", [{"name": "سرنخ", "probability": 10}])  # for the fixed cost
        assign_seat(db.session.get(User, dep.admin_id), "sales")
        db.session.commit()
        pipeline_id, stages = pipeline.id, [s.id for s in pipeline.stages]
        db.session.remove()
        db.engine.dispose()
    rng = random.Random(5)

    def rows():
        for i in range(1, n_deals + 1):
            title = " ".join(rng.sample(WORDS, 3))
            touched = NOW - timedelta(days=rng.randrange(60))
            yield (i, title, rng.randrange(1, n_customers + 1), pipeline_id,
                   rng.choice(stages), rng.randrange(1, 5_000) * 1_000_000, "IRR",
                   (NOW + timedelta(days=rng.randrange(-10, 120))).date(), dep.admin_id,
                   "نمایشگاه", "", "open", "", "", touched, touched, normalize(title),
                   touched, touched)

    loader = Loader(dep)
    loader.rows("sales_deal", DEAL_COLUMNS, rows())
    loader.commit()
    loader.finish(["sales_deal"])
    loader.close()
    return pipeline_id


def signed_in_client(app):
    client = app.test_client()
    page = client.get("/auth/login", base_url=BASE)
    token = re.search(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.data)
    answer = client.post("/auth/login", base_url=BASE, headers={"Referer": BASE + "/"}, data={
        "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token.group(1).decode()})
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return client


def record_page_sql(app, client, url: str) -> list[tuple[str, object]]:
    """The statements (driver SQL and parameters) one request of ``url`` runs."""
    from sqlalchemy import event

    from core.extensions import db

    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        answer = client.get(url, base_url=BASE)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if answer.status_code != 200:
        raise RuntimeError(f"{url} answered {answer.status_code}")
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=5000)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (a private schema is used); SQLite when absent")
    args = parser.parse_args()

    with deployment(args.database_url) as dep:
        started = time.perf_counter()
        seed_customers(dep, args.customers, verbose=False)
        pipeline_id = setup(dep, args.deals, args.customers)
        print(f"{dep.dialect}: {args.customers} customers, {args.deals} open deals seeded in "
              f"{time.perf_counter() - started:.1f} s")
        app = dep.app()
        client = signed_in_client(app)
        url = f"/sales/board?pipeline={pipeline_id}"
        statements = record_page_sql(app, client, url)
        cards = [s for s in statements if "union all" in s[0].lower()]
        if len(cards) != 1:
            raise RuntimeError("the board's card statement was not found in its SQL")
        html = client.get(url, base_url=BASE).get_data(as_text=True)
        drawn = html.count("data-deal=")

        engine = dep.engine()
        raw = engine.raw_connection()

        _took, card_rows = replay(raw, cards)
        if card_rows != drawn:
            raise RuntimeError(f"the bare query fetched {card_rows} deals, the page drew {drawn}")
        empty_url = "/sales/board?pipeline=" + str(pipeline_id + 1)
        page_times, bare_times, sql_times, empty_times = [], [], [], []
        for _ in range(3):  # warm up caches on both sides
            client.get(url, base_url=BASE)
            replay(raw, cards)
        for _ in range(args.rounds):
            begun = time.perf_counter()
            answer = client.get(url, base_url=BASE)
            page_times.append(time.perf_counter() - begun)
            if answer.status_code != 200:
                raise RuntimeError(f"{url} answered {answer.status_code}")
            bare_times.append(replay(raw, cards)[0])
            sql_times.append(replay(raw, statements)[0])
            begun = time.perf_counter()
            client.get(empty_url, base_url=BASE)
            empty_times.append(time.perf_counter() - begun)
        raw.close()
        engine.dispose()

    page, bare, sql, empty = (statistics.median(t) * 1000 for t in (
        page_times, bare_times, sql_times, empty_times))
    print(f"board page (server, in process): {page:8.2f} ms median of {args.rounds}, "
          f"{drawn} cards drawn of {args.deals} open deals, {len(statements)} statements")
    print(f"board page of an empty pipeline: {empty:8.2f} ms (the page's fixed cost)")
    print(f"bare card query (same deals):    {bare:8.2f} ms")
    print(f"all the page's SQL, bare:        {sql:8.2f} ms")
    print(f"ratio page / bare card query:    {page / bare:8.1f}")
    print(f"ratio page / page SQL:           {page / sql:8.1f}")


if __name__ == "__main__":
    main()
