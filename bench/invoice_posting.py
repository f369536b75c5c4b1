"""Invoice posting throughput with concurrent clients on PostgreSQL; numbers checked gapless.

    .venv/bin/python bench/invoice_posting.py [--clients 8] [--per-client 100]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Seeds a private PostgreSQL schema (dropped afterwards) with ``clients × per-client`` draft
invoices (three lines each), then runs ``--clients`` processes, each with its own app and
connection, released together by a barrier:

1. ceiling: each process inserts and commits ``per-client`` rows of a one-column table
   through the same stack (Flask-SQLAlchemy session, one transaction per row) — the rate at
   which this database takes small committed transactions from that many clients;
2. posting: each process posts its share of the drafts with ``post_invoice`` and commits
   each (the next number of the fiscal year under the sequence row's lock, VAT restated,
   seller and buyer copied, ``invoice_posted`` and ``purchase_recorded`` with their audit
   and analytics rows).

Prints both rates, posting/ceiling, and checks that the numbers are exactly 1..N.
"""

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import ADMIN_EMAIL, deployment  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def seed(app, count: int) -> list[int]:
    from core.auth.models import User
    from core.customers.services import create_customer
    from core.extensions import db
    from modules.sales import invoices
    from modules.sales.catalog import create_product

    with app.test_request_context():
        user = db.session.query(User).filter_by(email=ADMIN_EMAIL).one()
        customer = create_customer(by=user, kind="organisation", legal_name="شرکت آلفا",
                                   display_name="آلفا")
        product = create_product(code="LAP", name="لپ تاپ", price=45_000_000)
        ids = []
        for n in range(count):
            ids.append(invoices.create_invoice(customer, [
                {"product_id": product.id, "quantity": 1 + n % 3},
                {"description": "نصب", "quantity": "1.5", "unit_price": 2_000_000},
                {"description": "حمل", "quantity": 1, "unit_price": 500_000 + n}],
                by=user).id)
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()
        db.session.execute(db.text("CREATE TABLE bench_ceiling (id serial PRIMARY KEY, n int)"))
        db.session.commit()
        return ids


def worker(url: str, instance: str, task: str, ids: list[int], barrier, results) -> None:
    """One client: its own app and connection; waits at the barrier, then works and times."""
    import os

    from core import create_app
    from core.extensions import db
    from modules.sales.invoices import post_invoice

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="bench-secret",
                     CRM_UPLOAD_DIR=os.path.join(instance, "uploads"))
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
        barrier.wait()
        start = time.perf_counter()
        numbers = []
        for invoice_id in ids:
            if task == "ceiling":
                db.session.execute(db.text("INSERT INTO bench_ceiling (n) VALUES (:n)"),
                                   {"n": invoice_id})
            else:
                numbers.append(post_invoice(invoice_id).number)
            db.session.commit()
        results.put((time.perf_counter() - start, numbers))
        db.session.remove()
        db.engine.dispose()


def run(dep, task: str, shares: list[list[int]]) -> tuple[float, list[int]]:
    """Wall time from the barrier to the last client's finish, and the numbers given."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(shares) + 1)
    results = context.Queue()
    processes = [context.Process(target=worker, args=(dep.url, dep.instance, task, share,
                                                      barrier, results))
                 for share in shares]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    outcomes = [results.get(timeout=1800) for _ in processes]
    wall = time.perf_counter() - start
    for process in processes:
        process.join()
    return wall, [n for _elapsed, numbers in outcomes for n in numbers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=100)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("this bench is about PostgreSQL: give --database-url postgresql://...")

    from sqlalchemy import select

    from core.extensions import db
    from modules.sales.models.documents import Invoice

    total = args.clients * args.per_client
    with deployment(args.database_url) as dep:
        app = dep.app()
        ids = seed(app, total)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shares = [ids[i::args.clients] for i in range(args.clients)]
        ceiling_wall, _ = run(dep, "ceiling", shares)
        posting_wall, numbers = run(dep, "post", shares)
        with app.app_context():
            stored = sorted(db.session.execute(select(Invoice.number)).scalars())
            db.session.remove()
            db.engine.dispose()

    gapless = sorted(numbers) == list(range(1, total + 1)) == stored
    ceiling, posting = total / ceiling_wall, total / posting_wall
    print(f"PostgreSQL, {args.clients} concurrent clients, {total} transactions each run")
    print(f"ceiling (bare INSERT + COMMIT):     {ceiling:8.1f} per second")
    print(f"invoice posting (post + COMMIT):    {posting:8.1f} per second   "
          f"ratio {posting / ceiling:.3f}")
    print(f"numbers: {len(set(numbers))} distinct, "
          f"{'gapless 1..' + str(total) if gapless else 'NOT GAPLESS'}")
    if not gapless:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
