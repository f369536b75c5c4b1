"""Association-rule mining (cross-sell) at scale: wall time and peak memory of the real job,
and its SQL time as a ratio to a single scan of the invoice lines.

    .venv/bin/python bench/rules.py [--lines 1000000] [--products 2000]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--rounds 3]

Seeds a throwaway deployment (SQLite by default; a private PostgreSQL schema, dropped
afterwards, with --database-url; see bench/seed.py) with customers, ``--products`` products
and invoices of 1–7 distinct products each (about 4 lines an invoice, so ``--lines`` / 4
invoices), written straight to the tables in bulk: 90 % posted invoices, 5 % credit notes,
5 % drafts. Products are drawn by a Zipf-like popularity; ``--planted`` pairs (A, B) are
planted: an invoice with A gets B too with probability 0.6, so those pairs must come out as
strong rules. Then, in a fresh process so that its memory high-water mark is the job's own:

1. runs the real job ``modules.sales.rules.mine`` (default thresholds) and prints its wall
   time, the process's peak RSS, the number of rules and how many planted pairs were found;
2. times the mining query (``modules.sales.rules`` runs it in one INSERT ... SELECT) against a
   single scan of the lines table (``SELECT count(*), sum(quantity) FROM sales_invoice_line``)
   in interleaved rounds, and prints the ratio of the medians.

The peak RSS is this Python process's: the database server's own memory (sort and hash work
areas) is not in it.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import Loader, deployment, seed_customers  # noqa: E402

SCAN_SQL = "SELECT count(*), sum(quantity) FROM sales_invoice_line"
CUSTOMERS = 20_000
SEED = 7


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def popularity_order(products: int) -> list[int]:
    """Product ids from the most to the least popular."""
    order = list(range(1, products + 1))
    random.Random(SEED + 1).shuffle(order)
    return order


def planted_pairs(products: int, planted: int) -> list[tuple[int, int]]:
    """(A, B): B goes with A. The A are among the most popular fifth of the products (so that
    the pair passes the default minimum support), the B anywhere."""
    rng = random.Random(SEED)
    order = popularity_order(products)
    heads = rng.sample(order[:max(planted, products // 5)], planted)
    tails = rng.sample([p for p in order if p not in set(heads)], planted)
    return list(zip(heads, tails, strict=True))


def seed_sales(dep, lines: int, products: int, planted: int) -> tuple[int, int]:
    """Products, invoices and lines in bulk; returns (invoices, lines) written."""
    rng = random.Random(SEED)
    loader = Loader(dep)
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    loader.rows("sales_product", ["id", "code", "name", "price", "search_key"],
                ((p, f"P-{p:05d}", f"کالای {p}", 1_000_000 + p * 1000, f"کالای {p}")
                 for p in range(1, products + 1)))
    partner = dict(planted_pairs(products, planted))
    weights = [1 / (rank ** 0.8) for rank in range(1, products + 1)]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    order = popularity_order(products)

    invoice_rows: list[tuple] = []
    line_rows: list[tuple] = []
    invoice_id = written = 0
    number = {"invoice": 0, "credit_note": 0}
    day = date(2025, 5, 1)

    def flush():
        loader.rows("sales_invoice", ["id", "kind", "status", "fiscal_year", "number",
                                      "customer_id", "issue_date", "posted_at"], invoice_rows)
        loader.rows("sales_invoice_line", ["invoice_id", "position", "product_id",
                                           "description", "quantity", "unit_price"], line_rows)
        loader.commit()
        invoice_rows.clear()
        line_rows.clear()

    while written < lines:
        invoice_id += 1
        size = rng.randint(1, 6)
        basket: list[int] = []
        for _ in range(size):
            pick = order[_bisect(cumulative, rng.random() * total)]
            if pick not in basket:
                basket.append(pick)
            mate = partner.get(pick)
            if mate and mate not in basket and rng.random() < 0.6:
                basket.append(mate)
        basket = basket[:max(1, min(len(basket), lines - written))]
        roll = rng.random()
        kind, status = (("credit_note", "posted") if roll < 0.05 else
                        ("invoice", "draft") if roll < 0.10 else ("invoice", "posted"))
        if status == "posted":
            number[kind] += 1
        invoice_rows.append((invoice_id, kind, status, 1404 if status == "posted" else None,
                             number[kind] if status == "posted" else None,
                             rng.randint(1, CUSTOMERS), day,
                             now if status == "posted" else None))
        for position, product in enumerate(basket):
            line_rows.append((invoice_id, position, product, f"کالای {product}", 1000,
                              1_000_000))
        written += len(basket)
        if len(line_rows) >= 50_000:
            flush()
    flush()
    loader.finish(["sales_product", "sales_invoice", "sales_invoice_line"])
    loader.close()
    return invoice_id, written


def _bisect(cumulative: list[float], x: float) -> int:
    lo, hi = 0, len(cumulative) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def measure(url: str, instance: str, products: int, planted: int, rounds: int) -> None:
    """The child process: the real job, then the mining query against a bare scan."""
    from sqlalchemy import DateTime, bindparam, delete, select, text

    from core import create_app
    from core.database import utcnow
    from core.extensions import db
    from modules.sales import rules
    from modules.sales.models.rules import AssociationRule

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="bench-secret",
                     CRM_UPLOAD_DIR=os.path.join(instance, "uploads"))
    with app.app_context():
        base = rss_mib()
        print(f"process before the job: RSS {base:.0f} MiB, peak {peak_mib():.0f} MiB")
        started = time.perf_counter()
        summary = rules.mine()
        wall = time.perf_counter() - started
        peak = peak_mib()
        found = {(a, c) for a, c in db.session.execute(
            select(AssociationRule.antecedent_id, AssociationRule.consequent_id))}
        planted_found = sum((a, b) in found for a, b in planted_pairs(products, planted))
        print(f"mine(): {summary['baskets']} baskets, {summary['rules']} rules in {wall:.2f} s; "
              f"peak RSS {peak:.0f} MiB (RSS after: {rss_mib():.0f} MiB); planted pairs "
              f"found: {planted_found} of {planted}")
        print(f"  thresholds: {summary['thresholds']}")

        limits = rules.thresholds()
        params = {"baskets": summary["baskets"], "computed_at": utcnow(),
                  "min_count": limits["min_count"], "min_support": limits["min_support"],
                  "min_confidence": limits["min_confidence"], "min_lift": limits["min_lift"]}
        mine_sql = text(rules._MINE).bindparams(
            bindparam("computed_at", type_=DateTime(timezone=True)))

        def scan():
            start = time.perf_counter()
            db.session.execute(text(SCAN_SQL)).all()
            seconds = time.perf_counter() - start
            db.session.rollback()
            return seconds

        def mining():
            start = time.perf_counter()
            db.session.execute(delete(AssociationRule))
            if db.session.get_bind().dialect.name == "postgresql":
                db.session.execute(text(f"SET LOCAL work_mem = '{rules.WORK_MEM}'"))
            db.session.execute(mine_sql, params)
            seconds = time.perf_counter() - start
            db.session.rollback()
            return seconds

        times = {"scan": [], "mine": []}
        for _ in range(rounds):  # interleaved: drift hits both alike
            times["scan"].append(scan())
            times["mine"].append(mining())
        scan_t, mine_t = statistics.median(times["scan"]), statistics.median(times["mine"])
        print(f"single scan of the lines table:  {scan_t:8.3f} s")
        print(f"mining query (INSERT ... SELECT): {mine_t:8.3f} s   ratio {mine_t / scan_t:.1f} x "
              f"the scan (median of {rounds} interleaved rounds)")
        print("RESULT " + json.dumps({"wall": wall, "peak_mib": peak, "base_mib": base,
                                      "baskets": summary["baskets"], "rules": summary["rules"],
                                      "planted_found": planted_found, "scan": scan_t,
                                      "mine": mine_t, "ratio": mine_t / scan_t}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--planted", type=int, default=100)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (a private schema is made and dropped); "
                             "default: SQLite in a temporary directory")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--measure", nargs=2, metavar=("URL", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure, args.products, args.planted, args.rounds)
        return

    where = "PostgreSQL" if args.database_url else "SQLite"
    print(f"seeding {args.lines} invoice lines over {args.products} products "
          f"({args.planted} planted pairs) on {where}", flush=True)
    with deployment(args.database_url) as dep:
        seed_customers(dep, CUSTOMERS, verbose=False)
        started = time.perf_counter()
        invoices, lines = seed_sales(dep, args.lines, args.products, args.planted)
        print(f"  {invoices} invoices, {lines} lines seeded in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        command = [sys.executable, __file__, "--measure", dep.url, dep.instance,
                   "--products", str(args.products), "--planted", str(args.planted),
                   "--rounds", str(args.rounds)]
        subprocess.run(command, check=True, env={**os.environ, **dep.env})


if __name__ == "__main__":
    main()
