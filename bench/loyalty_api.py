"""Club points through the API: earn-and-redeem transactions per second on PostgreSQL.

    .venv/bin/python bench/loyalty_api.py [--clients 16] [--per-client 100] [--members 64]
        [--workers 4] [--threads 4] [--database-url postgresql://postgres@127.0.0.1:5432/test]

Seeds a private PostgreSQL schema (dropped afterwards) with ``--members`` club members (1,000
points each) and one earning rule (a point per 10,000 rials), serves the app under gunicorn on
127.0.0.1 (gthread workers, warmed up), then releases ``--clients`` client processes together
by a barrier, twice:

1. ceiling: each client, on its own connection, runs ``per-client`` times the bare
   conditional ``UPDATE loyalty_member SET balance = balance - n WHERE id = ? AND balance >= n``
   and commits — the physical ceiling of a correct points ledger (one locked row, one commit);
2. API: each client (keep-alive HTTP) alternates ``POST /api/v1/loyalty/transactions``
   earn (an amount through the earning rules, a new receipt number) and redeem (30 points),
   ``per-client`` requests in all — with entries, lots, lot uses, settling, tiers and events.

Both runs spread the same members over the clients in the same way. Prints both rates, the
ratio API/ceiling, and checks every answer was 201 and every member's ledger adds up.
"""

import argparse
import http.client
import json
import multiprocessing
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import gunicorn  # noqa: E402
from bench.seed import ADMIN_EMAIL, deployment  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
START_POINTS = 1000
REDEEM = 30


def seed(app, members: int) -> list[int]:
    from core.admin.services import create_or_update_user
    from core.customers.services import create_customer
    from core.extensions import db
    from modules.loyalty import ledger
    from modules.loyalty.members import enrol
    from modules.loyalty.models.rules import Rule

    with app.test_request_context():
        user = create_or_update_user(email=ADMIN_EMAIL, password=None, role_name="admin",
                                     seats=["loyalty"])
        db.session.add(Rule(name="Base", kind="spend", points=1, per_amount=10_000))
        ids = []
        for n in range(members):
            customer = create_customer(by=user, kind="person", first_name="عضو",
                                       last_name=f"شماره {n}")
            member = enrol(customer, via="import")
            ledger.earn(member, START_POINTS, reason="start", pending_days=0)
            ids.append(member.id)
        db.session.commit()
        return ids


def ceiling_client(url: str, members: list[int], count: int, barrier, results) -> None:
    import psycopg

    # the URL's options put the bench schema on the search path; libpq knows no "+psycopg"
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))
    cur = conn.cursor()
    conn.commit()
    barrier.wait()
    start = time.perf_counter()
    done = 0
    for n in range(count):
        cur.execute("UPDATE loyalty_member SET balance = balance - %s "
                    "WHERE id = %s AND balance >= %s", (1, members[n % len(members)], 1))
        done += cur.rowcount
        conn.commit()
    results.put((time.perf_counter() - start, done, 0))
    conn.close()


def api_client(base: str, token: str, members: list[int], count: int, tag: int, barrier,
               results) -> None:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "Accept": "application/json"}
    barrier.wait()
    start = time.perf_counter()
    ok = bad = 0
    for n in range(count):
        member_id = members[(n // 2) % len(members)]
        if n % 2 == 0:
            body = {"type": "earn", "member_id": member_id, "amount": 1_000_000 + n,
                    "reference": f"bench-{tag}-{n}"}
        else:
            body = {"type": "redeem", "member_id": member_id, "points": REDEEM,
                    "reference": f"bench-{tag}-{n}"}
        conn.request("POST", "/api/v1/loyalty/transactions", body=json.dumps(body),
                     headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status == 201:
            ok += 1
        else:
            bad += 1
            if bad <= 3:
                print(f"client {tag}: {response.status} {data[:300]!r}", file=sys.stderr)
    results.put((time.perf_counter() - start, ok, bad))
    conn.close()


def warm_up(base: str, token: str, count: int) -> None:
    """Every worker has loaded the app and opened its connections before the clock starts."""
    from concurrent.futures import ThreadPoolExecutor

    parts = urlsplit(base)

    def get(_n):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        for _ in range(3):
            conn.request("GET", "/api/v1/loyalty/members?size=1",
                         headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"warm-up answered {response.status}")
        conn.close()

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(get, range(count)))


def _give_back(app, shares, per_client: int) -> None:
    from collections import Counter

    from sqlalchemy import text

    from core.extensions import db

    taken = Counter(share[n % len(share)] for share in shares for n in range(per_client))
    with app.app_context():
        for member_id, points in taken.items():
            db.session.execute(text("UPDATE loyalty_member SET balance = balance + :p "
                                    "WHERE id = :id"), {"p": points, "id": member_id})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def _guarded(target, *args):
    results = args[-1]
    try:
        target(*args)
    except BaseException as exc:  # a dead client must not leave the parent waiting
        import traceback

        traceback.print_exc()
        results.put((0.0, 0, 10**9))
        raise SystemExit(1) from exc


def run(target, shares, argsets) -> tuple[float, int, int]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(shares) + 1)
    results = context.Queue()
    processes = [context.Process(target=_guarded, args=(target, *argset, barrier, results))
                 for argset in argsets]
    for process in processes:
        process.start()
    barrier.wait()
    start = time.perf_counter()
    outcomes = [results.get(timeout=1800) for _ in processes]
    wall = time.perf_counter() - start
    for process in processes:
        process.join()
    return wall, sum(o[1] for o in outcomes), sum(o[2] for o in outcomes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--per-client", type=int, default=100)
    parser.add_argument("--members", type=int, default=64)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("this bench is about PostgreSQL: give --database-url postgresql://...")

    total = args.clients * args.per_client
    with deployment(args.database_url) as dep:
        app = dep.app()
        from core.extensions import db

        ids = seed(app, args.members)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shares = [ids[i::args.clients] or ids for i in range(args.clients)]
        ceiling_wall, ceiling_ok, _ = run(
            ceiling_client, shares,
            [(dep.url, share, args.per_client) for share in shares])
        _give_back(app, shares, args.per_client)  # the ceiling's points: ledgers add up again
        env = {**dep.env, "PYTHONWARNINGS": "ignore::UserWarning",
               "GUNICORN_CMD_ARGS": f"--graceful-timeout 5 --worker-class gthread "
                                    f"--threads {args.threads}"}
        with gunicorn("wsgi:app", env, args.workers) as base:
            warm_up(base, dep.token, args.workers * args.threads)
            api_wall, api_ok, api_bad = run(
                api_client, shares,
                [(base, dep.token, share, args.per_client, n) for n, share in enumerate(shares)])
        with app.app_context():
            from sqlalchemy import select

            from modules.loyalty.ledger import problems
            from modules.loyalty.models.members import Member

            broken = sum(bool(problems(member))
                         for member in db.session.execute(select(Member)).scalars())
            db.session.remove()
            db.engine.dispose()

    ceiling, api = total / ceiling_wall, total / api_wall
    print(f"PostgreSQL, {args.clients} concurrent clients, {args.members} members, "
          f"{total} transactions each run, gunicorn -w {args.workers} "
          f"--threads {args.threads}")
    print(f"ceiling (bare conditional UPDATE + COMMIT): {ceiling:8.1f} per second "
          f"({ceiling_ok} rows changed)")
    print(f"API earn/redeem (POST + ledger + COMMIT):   {api:8.1f} per second   "
          f"ratio {api / ceiling:.3f}")
    print(f"answers: {api_ok} × 201, {api_bad} others; ledgers with problems: {broken}")
    if api_bad or broken or ceiling_ok != total:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
