"""The main pages and API calls at scale under 16 connections, each against its bare ceiling.

    .venv/bin/python bench/load.py [--database-url postgresql://.../peyvand_bench]
        [--seconds 10] [--concurrency 16] [--only customer,invoice] [--smoke] [--no-write]
        [--workers N] [--threads N] [--explain]

Runs on the database ``bench/seed.py`` built (1,000,000 customers, 5,000,000 purchases, ...;
``--smoke`` seeds and uses a tiny one instead, a few seconds in all). It serves the real
application (``wsgi:app``) and a bare Flask app (``bench.load:bare()``) side by side under
gunicorn with the repository's ``deploy/gunicorn.conf.py``, signs in through the login form
and creates an API token, then for every target (a list, search or detail page, or an API
call) measures:

- the page: ``concurrency`` keep-alive client threads (``http.client``) request a sequence of
  sample URLs (other customers, other search terms, other invoices...) for ``--seconds``;
- its ceiling: the same threads call the bare app, which, for the same sample, runs exactly
  the SELECT statements the page ran (recorded in process beforehand, with their parameters;
  the statements of the sign-in, permissions, seats, settings and license are left out, as
  they are the framework's, not the page's data) through psycopg on a plain connection and
  returns the rows as JSON: no session, permission check, ORM or template.

It prints, per target, throughput (req/s), p50 and p99 latency of both, the ratio page / bare
(target >= 0.5) and whether the page's p99 is under 200 ms, and writes the table, the command,
the machine and the load average to ``bench/RESULTS.md`` (not with ``--smoke`` or --no-write).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import pickle
import platform
import random
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import ADMIN_EMAIL, ADMIN_PASSWORD, BENCH_URL  # noqa: E402

SMOKE_URL = "postgresql://postgres@127.0.0.1:5432/peyvand_bench_smoke"
QUERIES_ENV = "BENCH_LOAD_QUERIES"
RATIO_TARGET = 0.5
P99_TARGET_MS = 200.0
SAMPLES = 12  # sample URLs recorded per target
WARM = 5  # in-process requests of a sample URL before its statements are recorded
# Statements of the framework (who is signed in, roles, seats, settings, license, tokens), not
# of the page's data: the ceiling leaves them out.
FRAMEWORK_TABLES = {"core_user", "core_role", "core_seat", "core_setting", "core_license",
                    "core_license_revocations", "core_api_token", "core_lock", "core_team",
                    "core_job", "core_tax_rate"}
_FROM = re.compile(r"\bFROM\s+\(?\s*\"?(\w+)", re.IGNORECASE)


@dataclass
class Target:
    name: str
    kind: str  # "page" or "api"
    urls: list[str]
    statements: list[list] = field(default_factory=list)  # per URL: [(sql, params), ...]
    counts: list[int] = field(default_factory=list)  # per URL: statements the page ran


# --- the bare ceiling ------------------------------------------------------------------------

def bare():
    """The ceiling: ``GET /<target>/<i>`` runs the recorded statements of sample ``i``.

    Reads the statements from the pickle named by ``BENCH_LOAD_QUERIES``; one psycopg
    connection per worker thread to ``DATABASE_URL``.
    """
    import datetime as dt
    import decimal

    import psycopg
    from flask import Flask, Response
    from sqlalchemy.engine import make_url

    with open(os.environ[QUERIES_ENV], "rb") as handle:
        queries = pickle.load(handle)
    url = make_url(os.environ["DATABASE_URL"])
    conninfo = url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    local = threading.local()
    app = Flask("bare_load")

    def connection():
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = psycopg.connect(conninfo, autocommit=True)
        return conn

    def plain(value):
        if isinstance(value, dt.date | dt.datetime):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
        return str(value)

    @app.get("/<name>/<int:i>")
    def run(name, i):
        samples = queries[name]
        out = []
        with connection().cursor() as cur:
            for statement, params in samples[i % len(samples)]:
                cur.execute(statement, params)
                if cur.description is not None:
                    names = [c.name for c in cur.description]
                    out.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
        return Response(json.dumps(out, default=plain), mimetype="application/json")

    return app


# --- samples and targets ---------------------------------------------------------------------

def samples(dep, rng: random.Random) -> dict:
    """Ids and search terms drawn from the seeded rows."""
    from sqlalchemy import text

    from bench.search import pick_terms

    def ids(conn, table, count=SAMPLES):
        top = conn.execute(text(f"SELECT max(id) FROM {table}")).scalar() or 0
        low = conn.execute(text(f"SELECT min(id) FROM {table}")).scalar() or 0
        picked = rng.sample(range(low, top + 1), min(count * 3, top - low + 1))
        found = [r[0] for r in conn.execute(text(f"SELECT id FROM {table} WHERE id = ANY(:i)"),
                                            {"i": picked})]
        rng.shuffle(found)
        return found[:count]

    engine = dep.engine()
    with engine.connect() as conn:
        out = {"customer": ids(conn, "core_customer"), "invoice": ids(conn, "sales_invoice"),
               "ticket": ids(conn, "service_ticket"), "member": ids(conn, "loyalty_member"),
               "pipeline": conn.execute(text("SELECT pipeline_id FROM sales_deal LIMIT 1")
                                        ).scalar()}
        tickets = conn.execute(text("SELECT serial, subject FROM service_ticket WHERE id = "
                                    "ANY(:i)"), {"i": out["ticket"]}).all()
    engine.dispose()
    terms = [term for _kind, term in pick_terms(dep, SAMPLES * 2)]
    rng.shuffle(terms)
    out["terms"] = terms[:SAMPLES]
    words = [subject.split()[0] for _serial, subject in tickets]
    out["ticket_terms"] = [s for s, _subject in tickets][: SAMPLES // 2] + words[: SAMPLES // 2]
    return out


def targets(s: dict) -> list[Target]:
    def q(path, terms, key="q"):
        return [f"{path}?{urlencode({key: t})}" for t in terms]

    pipeline = s["pipeline"]
    return [
        Target("customer list", "page", ["/customers/"]),
        Target("customer search", "page", q("/customers/", s["terms"])),
        Target("customer 360", "page", [f"/customers/{i}" for i in s["customer"]]),
        Target("deal list", "page", ["/sales/deals"]),
        Target("deal kanban", "page", [f"/sales/board?pipeline={pipeline}"]),
        Target("quote list", "page", ["/sales/quotes/"]),
        Target("invoice list", "page", ["/sales/invoices/"]),
        Target("invoice page", "page", [f"/sales/invoices/{i}" for i in s["invoice"]]),
        Target("ticket list", "page", ["/service/tickets"]),
        Target("ticket search", "page", q("/service/tickets", s["ticket_terms"])),
        Target("ticket page", "page", [f"/service/tickets/{i}" for i in s["ticket"]]),
        Target("segment list", "page", ["/marketing/segments"]),
        Target("campaign list", "page", ["/marketing/campaigns"]),
        Target("club member list", "page", ["/loyalty/members"]),
        Target("club member page", "page", [f"/loyalty/members/{i}" for i in s["member"]]),
        Target("journal list", "page", ["/accounting/journal"]),
        Target("API customers", "api", ["/api/v1/customers"]),
        Target("API customer search", "api", q("/api/v1/customers", s["terms"])),
        Target("API invoices", "api", ["/api/v1/sales/invoices"]),
        Target("API tickets", "api", ["/api/v1/service/tickets"]),
        Target("API club members", "api", ["/api/v1/loyalty/members"]),
        Target("API journal", "api", ["/api/v1/accounting/journal"]),
    ]


def _framework(statement: str) -> bool:
    found = _FROM.search(statement)
    return bool(found) and found.group(1).lower() in FRAMEWORK_TABLES


def _data_statements(seen) -> list:
    return [(s, p) for s, p in seen
            if s.lstrip().upper().startswith(("SELECT", "WITH")) and not _framework(s)]


def record(dep, env: dict, token: str, chosen: list[Target]) -> None:
    """Run every sample URL once in process; keep the data statements each ran."""
    from sqlalchemy import event

    from bench.kanban import BASE, signed_in_client
    from core.extensions import db

    os.environ.update(env)
    from core import create_app

    app = create_app()
    client = signed_in_client(app)
    api_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with app.app_context():
        engine = db.engine
    seen: list = []

    def listen(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        for target in chosen:
            headers = api_headers if target.kind == "api" else {}
            for url in target.urls:
                for _ in range(WARM):  # first-use caches, and work a page does only now
                    # and then (the segment list recounts a few stale segments per view)
                    client.get(url, base_url=BASE, headers=headers)
                seen.clear()
                answer = client.get(url, base_url=BASE, headers=headers)
                if answer.status_code != 200:
                    raise SystemExit(f"{target.name}: {url} answered {answer.status_code}: "
                                     f"{answer.get_data(as_text=True)[:300]}")
                target.statements.append(_data_statements(seen))
                target.counts.append(len(seen))
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def explain(dep, chosen: list[Target]) -> None:
    """EXPLAIN ANALYZE of every data statement of each target's first sample."""
    engine = dep.engine()
    raw = engine.raw_connection()
    try:
        with raw.driver_connection.cursor() as cur:
            for target in chosen:
                print(f"\n== {target.name}: {target.urls[0]}")
                for statement, params in target.statements[0]:
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                    rows = [r[0] for r in cur.fetchall()]
                    took = next((r for r in rows if r.startswith("Execution Time")), "")
                    print(f"-- {took}\n{statement[:300]}\n" + "\n".join("   " + r for r in rows))
        raw.rollback()
    finally:
        raw.close()
        engine.dispose()


# --- serving ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_command(app_spec: str) -> list[str]:
    gunicorn_bin = str(Path(sys.executable).with_name("gunicorn"))
    config = ROOT / "deploy" / "gunicorn.conf.py"
    if config.exists():
        return [gunicorn_bin, "-c", str(config), app_spec]
    return [gunicorn_bin, "--worker-class", "gthread", app_spec]


@contextmanager
def serve(app_spec: str, env: dict, workers: int, threads: int, log_path: str = ""):
    """``app_spec`` under gunicorn (the repository's config) on a free port; the base URL."""
    port = free_port()
    env = {**os.environ, **env, "BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
           "GUNICORN_THREADS": str(threads), "GUNICORN_ACCESS_LOG": "0",
           "GUNICORN_LOG_LEVEL": "warning"}
    if not (ROOT / "deploy" / "gunicorn.conf.py").exists():
        env["GUNICORN_CMD_ARGS"] = (f"-b 127.0.0.1:{port} -w {workers} --threads {threads} "
                                    "--log-level warning")
    log = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()  # noqa: SIM115
    proc = subprocess.Popen(gunicorn_command(app_spec), cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                raise SystemExit(f"gunicorn {app_spec} exited:\n{log.read().decode()[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn {app_spec} did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def sign_in(base: str) -> str:
    """Sign in through the login form over HTTP; the Cookie header of the session."""
    host, port = base.split("//")[1].split(":")
    deadline = time.time() + 180  # the workers may take a while to boot on a busy machine
    while True:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            conn.request("GET", "/auth/login")
            answer = conn.getresponse()
            break
        except (OSError, http.client.HTTPException):
            conn.close()
            if time.time() > deadline:
                raise
            time.sleep(1)
    body = answer.read().decode()
    cookies = _cookies(answer, {})
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', body).group(1)
    form = urlencode({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token})
    conn.request("POST", "/auth/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Referer": base + "/auth/login",
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    answer = conn.getresponse()
    answer.read()
    if answer.status != 302:
        raise SystemExit(f"sign-in over HTTP failed: {answer.status}")
    cookies = _cookies(answer, cookies)
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def _cookies(answer, jar: dict) -> dict:
    jar = dict(jar)
    for header, value in answer.getheaders():
        if header.lower() == "set-cookie":
            name, _sep, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def create_api_token(dep) -> str:
    """A fresh read token of the bench admin (its secret is shown once)."""
    from sqlalchemy import select

    from core.api.tokens import create_token
    from core.auth.models import User
    from core.extensions import db

    app = dep.app()
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == ADMIN_EMAIL)).scalar_one()
        _token, secret = create_token(user, f"bench {datetime.now(UTC):%Y-%m-%d %H:%M}",
                                      ("read",))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return secret


# --- the load --------------------------------------------------------------------------------

def drive(base: str, paths: list[str], headers: dict, seconds: float,
          concurrency: int) -> tuple[float, list[float], int, str]:
    """``concurrency`` keep-alive threads GET ``paths`` in turn for ``seconds``.

    Returns (req/s, latencies in seconds, failed requests, the first failure)."""
    host, port = base.split("//")[1].split(":")
    results: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    first_error = [""]
    barrier = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def worker(n: int) -> None:
        conn = None
        i = n * 7
        out = results[n]
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=60)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[n] += 1
                    first_error[0] = first_error[0] or f"{path} answered {response.status}"
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                errors[n] += 1
                first_error[0] = first_error[0] or f"{path}: {exc!r}"
                if conn is not None:
                    conn.close()
                conn = None
                continue
            out.append(time.perf_counter() - started)
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
    latencies = [x for out in results for x in out]
    return len(latencies) / elapsed, latencies, sum(errors), first_error[0]


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- the machine and the report --------------------------------------------------------------

def machine(dep) -> dict:
    from sqlalchemy import text

    info = {"cpus": os.cpu_count(), "python": platform.python_version(),
            "kernel": platform.release()}
    try:
        with open("/proc/meminfo") as handle:
            kb = int(handle.readline().split()[1])
        info["ram"] = f"{kb / 1024 / 1024:.0f} GiB"
    except OSError:
        info["ram"] = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            info["cpu"] = next((line.split(":", 1)[1].strip() for line in handle
                                if line.startswith("model name")), "?")
    except OSError:
        info["cpu"] = "?"
    engine = dep.engine()
    with engine.connect() as conn:
        info["postgresql"] = conn.execute(text("SHOW server_version")).scalar()
        info["rows"] = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in (
            "core_customer", "core_purchase", "sales_deal", "service_ticket", "loyalty_member",
            "loyalty_entry", "sales_quote", "sales_invoice", "accounting_link_entry")}
    engine.dispose()
    try:
        import redis

        info["redis"] = redis.Redis.from_url(os.environ.get(
            "REDIS_URL", "redis://127.0.0.1:6379/0"), socket_timeout=2).info()["redis_version"]
    except Exception:  # noqa: BLE001 - no Redis: say so
        info["redis"] = "not reachable"
    return info


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def table(rows: list[dict]) -> list[str]:
    head = ("| target | statements (page/bare) | page req/s | page p50 ms | page p99 ms "
            "| bare req/s | bare p99 ms | ratio | ratio ≥ 0.5 | p99 < 200 ms |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['statements']}/{r['bare_statements']} | {r['rps']:.1f} | "
            f"{r['p50']:.1f} | {r['p99']:.1f} | {r['bare_rps']:.1f} | {r['bare_p99']:.1f} | "
            f"{r['ratio']:.2f} | {'met' if r['ratio'] >= RATIO_TARGET else 'MISSED'} | "
            f"{'met' if r['p99'] < P99_TARGET_MS else 'MISSED'} |")
    return lines


def write_results(path: Path, command: str, info: dict, settings: dict, rows: list[dict],
                  load_before: str, load_after: str, notes: str) -> None:
    counts = ", ".join(f"{t} {n:,}" for t, n in info["rows"].items())
    met = sum(r["ratio"] >= RATIO_TARGET and r["p99"] < P99_TARGET_MS for r in rows)
    text = [
        f"## Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Command: `{command}`",
        "",
        f"- Machine: {info['cpus']} CPUs ({info['cpu']}), {info['ram']} RAM, kernel "
        f"{info['kernel']}, Python {info['python']}",
        f"- PostgreSQL {info['postgresql']}, Redis {info['redis']}",
        f"- gunicorn: {settings['gunicorn']}; {settings['concurrency']} client connections "
        f"(threads in the same machine), {settings['seconds']:.0f} s per target and side "
        "after a warm-up",
        f"- Load average (1/5/15 min) before: {load_before}; after: {load_after} "
        "(the machine is shared)",
        f"- Rows: {counts}",
        f"- Targets met (ratio ≥ {RATIO_TARGET} and p99 < {P99_TARGET_MS:.0f} ms): "
        f"{met} of {len(rows)}",
        "",
        *table(rows),
        "",
    ]
    if notes:
        text += [notes, ""]
    header = ("# Benchmarks at scale (bench/load.py)\n\nEach run is appended by "
              "`bench/load.py`; the newest is last. See the docstring of bench/load.py for "
              "what the page and its bare ceiling each do.\n\n")
    old = path.read_text(encoding="utf-8") if path.exists() else header
    path.write_text(old.rstrip("\n") + "\n\n" + "\n".join(text), encoding="utf-8")


# --- main ------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None,
                        help=f"the seeded bench database (default {BENCH_URL})")
    parser.add_argument("--seconds", type=float, default=10.0, help="per target and side")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: the config's, 2 x CPUs + 1)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--only", default="", help="comma-separated parts of target names")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9",
                        help="REDIS_URL of the served app ('' for none)")
    parser.add_argument("--smoke", action="store_true",
                        help="seed a tiny database and run each target for a moment")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN ANALYZE of each target's statements first")
    parser.add_argument("--no-write", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--notes", default="", help="a paragraph added under the table")
    args = parser.parse_args(argv)

    from bench.seed import open_bench, seed_bench, seeded

    url = args.database_url or (SMOKE_URL if args.smoke else BENCH_URL)
    if args.smoke:
        seed_bench(url, "smoke", verbose=False)
        args.seconds, args.warmup = min(args.seconds, 0.3), 0.1
        args.workers = args.workers or 1
        args.threads = min(args.threads, 2)
        args.concurrency = min(args.concurrency, 4)
    dep = open_bench(url, verbose=False)
    if "marketing" not in seeded(dep):
        raise SystemExit(f"{url} is not seeded (or not completely): run bench/seed.py first")
    redis_url = args.redis_url
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_timeout=1).ping()
        except Exception:  # noqa: BLE001 - serve without Redis
            redis_url = ""
    env = {**dep.env, "PYTHONWARNINGS": "ignore", "CRM_LOG_JSON": "0"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    workers = args.workers or 2 * (os.cpu_count() or 1) + 1

    rng = random.Random(11)
    chosen = targets(samples(dep, rng))
    if args.only:
        parts = [p.strip().lower() for p in args.only.split(",") if p.strip()]
        chosen = [t for t in chosen if any(p in t.name.lower() for p in parts)]
    token = create_api_token(dep)
    print(f"recording the SQL of {sum(len(t.urls) for t in chosen)} sample URLs of "
          f"{len(chosen)} targets ...", flush=True)
    record(dep, env, token, chosen)
    if args.explain:
        explain(dep, chosen)
    queries = os.path.join(dep.instance, "load_queries.pickle")
    with open(queries, "wb") as handle:
        pickle.dump({str(n): t.statements for n, t in enumerate(chosen)}, handle)
    env[QUERIES_ENV] = queries

    load_before = loadavg()
    rows = []
    app_log = os.path.join(dep.instance, "gunicorn-app.log")
    with serve("wsgi:app", env, workers, args.threads, app_log) as app_base, \
            serve("bench.load:bare()", env, workers, args.threads) as bare_base:
        cookie = sign_in(app_base)
        print(f"gunicorn {workers} workers x {args.threads} threads each; "
              f"{args.concurrency} connections; {args.seconds:.0f} s per side\n", flush=True)
        print(f"{'target':<22} {'page req/s':>10} {'p50':>7} {'p99':>7} {'bare req/s':>10} "
              f"{'p99':>7} {'ratio':>6}", flush=True)
        for n, target in enumerate(chosen):
            headers = ({"Authorization": f"Bearer {token}", "Accept": "application/json"}
                       if target.kind == "api" else {"Cookie": cookie})
            bare_paths = [f"/{n}/{i}" for i in range(len(target.urls))]
            sides = {}
            for side, base, paths, hdrs in (("page", app_base, target.urls, headers),
                                            ("bare", bare_base, bare_paths, {})):
                drive(base, paths, hdrs, args.warmup, args.concurrency)
                rps, lat, errors, first = drive(base, paths, hdrs, args.seconds,
                                                args.concurrency)
                if errors:
                    raise SystemExit(f"{target.name} ({side}): {errors} failed requests; "
                                     f"first: {first} (the app's log: {app_log})")
                sides[side] = (rps, [x * 1000 for x in lat])
            (rps, lat), (bare_rps, bare_lat) = sides["page"], sides["bare"]
            row = {"name": target.name,
                   "statements": round(sum(target.counts) / len(target.counts)),
                   "bare_statements": round(sum(map(len, target.statements))
                                            / len(target.statements)),
                   "rps": rps, "p50": percentile(lat, 0.5), "p99": percentile(lat, 0.99),
                   "bare_rps": bare_rps, "bare_p50": percentile(bare_lat, 0.5),
                   "bare_p99": percentile(bare_lat, 0.99), "ratio": rps / bare_rps}
            rows.append(row)
            print(f"{target.name:<22} {rps:10.1f} {row['p50']:7.1f} {row['p99']:7.1f} "
                  f"{bare_rps:10.1f} {row['bare_p99']:7.1f} {row['ratio']:6.2f}"
                  f"{'' if row['ratio'] >= RATIO_TARGET else '  ratio MISSED'}"
                  f"{'' if row['p99'] < P99_TARGET_MS else '  p99 MISSED'}", flush=True)
    load_after = loadavg()
    print()
    print("\n".join(table(rows)))
    if not (args.smoke or args.no_write):
        given = list(argv if argv is not None else sys.argv[1:])
        if "--notes" in given:  # the notes are printed under the table, not in the command
            at = given.index("--notes")
            del given[at:at + 2]
        given = [a for a in given if not a.startswith("--notes=")]
        command = ".venv/bin/python bench/load.py " + " ".join(shlex.quote(a) for a in given)
        settings = {"gunicorn": f"deploy/gunicorn.conf.py, {workers} workers x {args.threads} "
                                f"threads (gthread), REDIS_URL {'set' if redis_url else 'unset'}",
                    "concurrency": args.concurrency, "seconds": args.seconds}
        write_results(Path(args.results), command.strip(), machine(dep), settings, rows,
                      load_before, load_after, args.notes)
        print(f"\nwritten to {args.results}")
    return rows


if __name__ == "__main__":
    main()
