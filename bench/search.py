"""Customer search at scale on PostgreSQL: the API under 16 connections vs a bare Flask route.

    .venv/bin/python bench/search.py [--customers 1000000] [--seconds 10] [--rounds 3]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--workers 4]
        [--threads 1] [--concurrency 16] [--no-trigram] [--explain]
        [--api-app module:factory()]

Seeds a private schema (dropped afterwards) with customers (bench/seed.py), adds the trigram
GIN index on ``core_customer.search_key`` when pg_trgm is available (unless --no-trigram),
and picks a few hundred search terms from the seeded rows, the way people type them: family
names, first + last names, name fragments, names typed with the Arabic ي and ك, whole mobiles
in Persian digits with spaces (۰۹۱۲ ۳۴۵ ۶۷۸۹), the tail of a mobile, national codes in Persian
digits, parts of emails and organisation names.

For every term it runs ``GET /api/v1/customers?q=...`` once in process and records the SQL
statement that fetched the page. Then it serves, under gunicorn, both the real application
(``bench.apps:full()``) and a bare Flask route (``bench.search:bare_search()``) that executes
exactly that recorded statement with psycopg and returns its rows as JSON, with no token
check, session, permissions, ORM or schema serialisation. ``concurrency`` client threads
with keep-alive connections (``http.client``) call each in interleaved rounds over the same
term sequence. Prints the throughput (req/s) and p50/p99 latency of both, the API's p50/p99
per kind of term, the throughput ratio (target >= 0.5) and whether the API's p99 is under
150 ms. ``--explain`` prints EXPLAIN ANALYZE of one recorded statement per kind of term;
``--api-app`` measures another application factory (to try a change before making it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import DEFAULT_PG, _arabic_typed  # noqa: E402

TRIGRAM_INDEX = "ix_core_customer_search_key_trgm"
P99_TARGET_MS = 150.0
RATIO_TARGET = 0.5
_FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
QUERIES_ENV = "BENCH_SEARCH_QUERIES"

# How often each kind of term is typed (relative weights).
KINDS = {
    "family name": 12, "first + last": 14, "arabic letters": 12, "name fragment": 8,
    "organisation": 4, "mobile (fa digits)": 20, "mobile tail": 6, "national code (fa)": 16,
    "email part": 8,
}


# --- the bare route --------------------------------------------------------------------------

def bare_search():
    """The ceiling: a Flask route that runs the recorded statement of ``q`` and returns rows.

    Reads the statements from the JSON file named by ``BENCH_SEARCH_QUERIES`` and connects
    with psycopg to ``DATABASE_URL`` (one connection per worker thread).
    """
    import datetime as dt

    import psycopg
    from flask import Flask, Response, request
    from sqlalchemy.engine import make_url

    with open(os.environ[QUERIES_ENV], encoding="utf-8") as handle:
        queries = json.load(handle)
    url = make_url(os.environ["DATABASE_URL"])
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    options = url.query.get("options")
    local = threading.local()
    app = Flask("bare_search")

    def connection():
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(conninfo, options=options, autocommit=True)
        return conn

    def plain(value):
        return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)

    @app.get("/search")
    def search():
        statement, params = queries[request.args["q"]]
        with connection().cursor() as cur:
            cur.execute(statement, params)
            names = [c.name for c in cur.description]
            rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        return Response(json.dumps({"items": rows}, default=plain), mimetype="application/json")

    return app


# --- terms and their statements --------------------------------------------------------------

def pick_terms(dep, count: int, seed: int = 3) -> list[tuple[str, str]]:
    """``count`` (kind, term) pairs drawn from the seeded customers, in typing frequencies."""
    from sqlalchemy import text

    rng = random.Random(seed)
    engine = dep.engine()
    with engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM core_customer")).scalar()
        ids = rng.sample(range(1, top + 1), min(count * 3, top))
        rows = conn.execute(text(
            "SELECT id, kind, first_name, last_name, legal_name, national_code "
            "FROM core_customer WHERE id = ANY(:ids)"), {"ids": ids}).all()
        contacts = defaultdict(list)
        for cid, kind, value in conn.execute(text(
                "SELECT customer_id, kind, value FROM core_contact_point "
                "WHERE customer_id = ANY(:ids) ORDER BY id"), {"ids": ids}):
            contacts[cid].append((kind, value))
    engine.dispose()
    people = [r for r in rows if r.kind == "person"]
    orgs = [r for r in rows if r.kind == "organisation"]

    def plain(name: str) -> str:  # the seed types some names with Arabic letters
        return name.replace("ي", "ی").replace("ك", "ک")

    def mobile_of(pool):
        for _ in range(100):
            row = rng.choice(pool)
            found = [v for k, v in contacts[row.id] if k == "mobile"]
            if found:
                return found[0]
        raise RuntimeError("no seeded customer has a mobile")

    def one(kind: str) -> str:
        person = rng.choice(people)
        first, last = plain(person.first_name), plain(person.last_name)
        if kind == "family name":
            return last
        if kind == "first + last":
            return f"{first} {last}"
        if kind == "arabic letters":
            return _arabic_typed(f"{first} {last}")
        if kind == "name fragment":
            word = max(last.split(), key=len).replace("\u200c", "")
            start = rng.randrange(max(len(word) - 3, 1))
            return word[start:start + rng.choice((3, 4))]
        if kind == "organisation":
            words = plain(rng.choice(orgs).legal_name).split() if orgs else [last]
            return " ".join(words[1:3]) if len(words) > 2 else words[-1]
        if kind == "mobile (fa digits)":
            local = "0" + mobile_of(people)[3:]
            return f"{local[:4]} {local[4:7]} {local[7:]}".translate(_FA_DIGITS)
        if kind == "mobile tail":
            return mobile_of(people)[-7:].translate(_FA_DIGITS)
        if kind == "national code (fa)":
            coded = [r for r in people if r.national_code]
            return rng.choice(coded).national_code.translate(_FA_DIGITS)
        if kind == "email part":
            for _ in range(100):
                row = rng.choice(rows)
                emails = [v for k, v in contacts[row.id] if k == "email"]
                if emails:
                    return emails[0].split("@")[0]
            return last
        raise ValueError(kind)

    kinds = rng.choices(list(KINDS), weights=list(KINDS.values()), k=count)
    seen, terms = set(), []
    for kind in kinds:
        term = one(kind)
        if term not in seen:
            seen.add(term)
            terms.append((kind, term))
    return terms


def app_from_spec(spec: str, env: dict):
    """The app gunicorn would serve for ``spec`` ("module:factory()"), built in process."""
    import importlib

    module, factory = spec.split(":")
    os.environ.update(env)
    return getattr(importlib.import_module(module), factory.removesuffix("()"))()


def record_statements(dep, terms, app_spec: str = "bench.apps:full()") -> tuple[dict, dict]:
    """Run every term through the real API in process; the page statement of each, and stats.

    Returns ({term: [sql, params]}, {"statements": per-request count, "hits": {term: items}}).
    """
    from sqlalchemy import event

    from core.extensions import db

    app = app_from_spec(app_spec, dep.env)
    statements: dict[str, list] = {}
    stats = {"statements": [], "hits": {}}
    headers = {"Authorization": f"Bearer {dep.token}"}
    with app.app_context():
        seen: list[tuple[str, dict]] = []

        def record(_conn, _cursor, statement, parameters, _context, _many):
            seen.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", record)
        client = app.test_client()
        for _kind, term in terms:
            seen.clear()
            response = client.get(f"/api/v1/customers?q={quote(term)}", headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"the API answered {response.status_code} to {term!r}: "
                                 f"{response.get_data(as_text=True)[:300]}")
            page = [(s, p) for s, p in seen if "_keyset_0" in s]
            if len(page) != 1:
                raise SystemExit(f"could not find the page statement for {term!r}")
            statements[term] = [page[0][0], page[0][1]]
            stats["statements"].append(len(seen))
            stats["hits"][term] = len(response.get_json()["items"])
        event.remove(db.engine, "before_cursor_execute", record)
        db.session.remove()
        db.engine.dispose()
    return statements, stats


def ensure_trigram_index(dep) -> str:
    """Create the trigram GIN index on the search key unless it exists; say what happened."""
    from sqlalchemy import text

    engine = dep.engine()
    with engine.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_indexes WHERE schemaname = current_schema()"
                                   " AND indexname = :n"), {"n": TRIGRAM_INDEX}).scalar()
        if exists:
            return "present (from the models)"
        has_ops = conn.execute(text("SELECT 1 FROM pg_opclass WHERE opcname = 'gin_trgm_ops' "
                                    "AND pg_opclass_is_visible(oid)")).scalar()
        if not has_ops:
            return "NOT available (pg_trgm missing): searching without it"
        started = time.perf_counter()
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        conn.execute(text(f"CREATE INDEX {TRIGRAM_INDEX} ON core_customer "
                          "USING gin (search_key gin_trgm_ops)"))
        conn.execute(text("ANALYZE core_customer"))
        conn.commit()
        took = time.perf_counter() - started
    engine.dispose()
    return f"created by the bench in {took:.0f} s"


def explain(dep, terms, statements) -> None:
    """EXPLAIN ANALYZE of the recorded statement of the first term of every kind."""
    engine = dep.engine()
    done = set()
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur:
            for kind, term in terms:
                if kind in done:
                    continue
                done.add(kind)
                statement, params = statements[term]
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                plan = "\n".join("    " + row[0] for row in cur.fetchall())
                print(f"\n-- {kind}: {term!r}\n{plan}")
        raw.rollback()
    finally:
        raw.close()
        engine.dispose()


# --- the load --------------------------------------------------------------------------------

def load(base: str, path: str, terms, seconds: float, concurrency: int,
         headers: dict) -> tuple[float, list[tuple[str, float]], int]:
    """``concurrency`` keep-alive client threads for ``seconds``; (req/s, latencies, errors)."""
    host, port = base.split("//")[1].split(":")
    results: list[list] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def worker(n: int) -> None:
        conn = None
        i = n * 7919  # each thread starts at another place of the same term sequence
        out = results[n]
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            kind, term = terms[i % len(terms)]
            i += 1
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=60)
                conn.request("GET", path + quote(term), headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[n] += 1
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            out.append((kind, time.perf_counter() - started))
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True)
               for n in range(concurrency)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    stop_at[0] = started + seconds
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    latencies = [item for out in results for item in out]
    return len(latencies) / elapsed, latencies, sum(errors)


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (both apps)")
    parser.add_argument("--threads", type=int, default=1,
                        help="gunicorn threads per worker (>1: the gthread worker, keep-alive)")
    parser.add_argument("--terms", type=int, default=300)
    parser.add_argument("--no-trigram", action="store_true",
                        help="do not add the trigram index (measure without it)")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--api-app", default="bench.apps:full()",
                        help="the application to measure (to try a change: module:factory())")
    args = parser.parse_args()

    from bench._load import gunicorn
    from bench.seed import check_search_keys, deployment, seed_customers

    print(f"seeding {args.customers} customers on PostgreSQL", flush=True)
    with deployment(args.database_url) as dep:
        seed_customers(dep, args.customers)
        wrong = check_search_keys(dep)
        if wrong:
            raise SystemExit(f"{wrong} sampled customers have a search key that differs from "
                             "search_key_for: fix bench/seed.py")
        if args.no_trigram:
            print("trigram index: left out (--no-trigram)")
        else:
            print(f"trigram index on core_customer.search_key: {ensure_trigram_index(dep)}")
        terms = pick_terms(dep, args.terms)
        random.Random(5).shuffle(terms)
        statements, stats = record_statements(dep, terms, args.api_app)
        hits = stats["hits"]
        per_kind = Counter(kind for kind, _t in terms)
        found = Counter(kind for kind, term in terms if hits[term])
        print(f"{len(terms)} terms; the API ran {statistics.mean(stats['statements']):.1f} SQL "
              "statements per search (median "
              f"{statistics.median(stats['statements']):.0f}); terms with results: "
              + ", ".join(f"{k} {found[k]}/{n}" for k, n in per_kind.items()))
        if args.explain:
            explain(dep, terms, statements)
        queries = os.path.join(dep.instance, "queries.json")
        with open(queries, "w", encoding="utf-8") as handle:
            json.dump(statements, handle, ensure_ascii=False)

        env = {**dep.env, QUERIES_ENV: queries, "PYTHONWARNINGS": "ignore::UserWarning"}
        gunicorn_args = "--graceful-timeout 5"
        if args.threads > 1:
            gunicorn_args += f" --worker-class gthread --threads {args.threads}"
        env["GUNICORN_CMD_ARGS"] = gunicorn_args
        api_headers = {"Authorization": f"Bearer {dep.token}", "Accept": "application/json"}
        runs = {"api": [], "bare": []}
        latencies = {"api": [], "bare": []}
        with gunicorn(args.api_app, env, args.workers) as api, \
                gunicorn("bench.search:bare_search()", env, args.workers) as bare:
            targets = {"api": (api, "/api/v1/customers?q=", api_headers),
                       "bare": (bare, "/search?q=", {})}
            for base, path, headers in targets.values():  # warm up both
                load(base, path, terms, min(3.0, args.seconds), args.concurrency, headers)
            for n in range(args.rounds):
                for name, (base, path, headers) in targets.items():
                    rate, lat, errors = load(base, path, terms, args.seconds, args.concurrency,
                                             headers)
                    if errors:
                        raise SystemExit(f"{errors} failed requests to the {name} route")
                    runs[name].append(rate)
                    latencies[name].extend(lat)
                    print(f"  round {n + 1} {name:<4} {rate:8.1f} req/s  "
                          f"p99 {percentile([s for _k, s in lat], 0.99) * 1000:7.1f} ms",
                          flush=True)

    print(f"\n{args.customers} customers, {args.concurrency} connections, gunicorn "
          f"{args.workers} workers x {args.threads} threads, {args.rounds} interleaved rounds "
          f"of {args.seconds:.0f} s (throughput: median; latency: all rounds)")
    result = {}
    for name, label in (("bare", "bare Flask route, same SQL"),
                        ("api", "GET /api/v1/customers?q=")):
        ms = [s * 1000 for _k, s in latencies[name]]
        result[name] = (statistics.median(runs[name]), percentile(ms, 0.5), percentile(ms, 0.99))
        rate, p50, p99 = result[name]
        print(f"{label:<30} {rate:8.1f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
    print("API latency by kind of term:")
    by_kind = defaultdict(list)
    for kind, seconds in latencies["api"]:
        by_kind[kind].append(seconds * 1000)
    for kind in KINDS:
        if by_kind[kind]:
            print(f"  {kind:<20} p50 {percentile(by_kind[kind], 0.5):7.1f} ms   "
                  f"p99 {percentile(by_kind[kind], 0.99):7.1f} ms")
    ratio = result["api"][0] / result["bare"][0]
    p99 = result["api"][2]
    print(f"throughput ratio API / bare: {ratio:.3f}  (target >= {RATIO_TARGET}: "
          f"{'met' if ratio >= RATIO_TARGET else 'MISSED'})")
    print(f"API p99 {p99:.1f} ms  (target < {P99_TARGET_MS:.0f} ms: "
          f"{'met' if p99 < P99_TARGET_MS else 'MISSED'})")


if __name__ == "__main__":
    main()
