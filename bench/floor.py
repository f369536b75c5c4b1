"""How close can any page on the required stack come to bench/load.py's bare ceiling?

    .venv/bin/python bench/floor.py [--seconds 10] [--only 'customer list,ticket page']
        [--database-url postgresql://.../peyvand_bench] [--no-write]

``bench/load.py`` compares each page with a bare Flask route that runs the page's recorded
SELECT statements through psycopg and returns them as JSON. This script puts a third app in
the same run: the *stack floor* (``bench.floor:floor()``), the smallest app built on the stack
the project requires and doing no work of ours:

- Flask-SQLAlchemy runs the same recorded statements (``exec_driver_sql``, no ORM objects);
- Flask-Login loads the signed-in user from the session cookie (one query of ``core_user``);
- Flask-WTF's CSRF protection is on and the page carries a token (every page of ours has a
  form: search, sign-out);
- Flask-Babel selects the Persian locale;
- for a page, Jinja renders every returned value into an HTML table inside a small RTL layout
  (plain ``{{ value }}``: no Persian digits, no Jalali dates, no links, no menu, no permission
  check, no license); for an API call, ``jsonify`` returns the rows.

Its throughput over the bare ceiling's is the best ratio any page could reach on this machine
with this stack. Where it is under 0.5, the issue's target ratio of 0.5 is out of reach for that
page whatever the application does. The app's own page is measured in the same run so the
three can be read together. Appends a section to ``bench/RESULTS.md`` (not with --no-write).
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.seed import ADMIN_EMAIL  # noqa: E402

LAYOUT = """<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>{{ _("Customers") }}</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><header><span>{{ current_user.name or current_user.email }}</span>
<form method="post" action="/logout"><input type="hidden" name="csrf_token"
 value="{{ csrf_token() }}"><button>{{ _("Sign out") }}</button></form></header>
<main>{% for rows in results %}<table>
{% for row in rows %}<tr>{% for value in row.values() %}<td>{{ value }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endfor %}</main></body></html>"""


def floor():
    """The stack floor: ``GET /<target>/<i>`` runs the recorded statements of sample ``i``
    through Flask-SQLAlchemy for the signed-in user and renders them (pages) or returns them
    as JSON (API calls). ``GET /login`` signs the bench admin in."""
    from flask import Flask, abort, jsonify, render_template_string
    from flask_babel import Babel
    from flask_login import LoginManager, UserMixin, current_user, login_user
    from flask_sqlalchemy import SQLAlchemy
    from flask_wtf.csrf import CSRFProtect

    with open(os.environ[load.QUERIES_ENV], "rb") as handle:
        queries = pickle.load(handle)
    kinds = dict(line.split("=", 1) for line in os.environ["BENCH_FLOOR_KINDS"].split(","))
    app = Flask("floor_load")
    app.config.update(SECRET_KEY=os.environ["SECRET_KEY"],
                      SQLALCHEMY_DATABASE_URI=os.environ["DATABASE_URL"],
                      SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 8, "pool_pre_ping": False})
    db = SQLAlchemy(app)

    class User(UserMixin, db.Model):
        __tablename__ = "core_user"
        id = db.Column(db.Integer, primary_key=True)
        email = db.Column(db.String)
        name = db.Column(db.String)

    logins = LoginManager(app)
    logins.user_loader(lambda uid: db.session.get(User, int(uid)))
    Babel(app, locale_selector=lambda: "fa")
    CSRFProtect(app)

    @app.get("/login")
    def login():
        user = db.session.execute(db.select(User).filter_by(email=ADMIN_EMAIL)).scalar_one()
        login_user(user)
        return "signed in"

    @app.get("/<name>/<int:i>")
    def run(name, i):
        if not current_user.is_authenticated:
            abort(401)
        samples = queries[name]
        conn = db.session.connection()
        out = []
        for statement, params in samples[i % len(samples)]:
            result = conn.exec_driver_sql(statement, params)
            if result.returns_rows:
                out.append([dict(row._mapping) for row in result])
        if kinds[name] == "api":
            return jsonify([[{k: str(v) for k, v in row.items()} for row in rows]
                            for rows in out])
        return render_template_string(LAYOUT, results=out)

    return app


def floor_cookie(base: str) -> str:
    import http.client

    host, port = base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", "/login")
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        raise SystemExit(f"floor sign-in answered {answer.status}")
    jar = load._cookies(answer, {})
    conn.close()
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=10.0, help="per target and side")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--only", default="", help="comma-separated parts of target names")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--results", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args(argv)

    from bench.seed import BENCH_URL, open_bench, seeded

    url = args.database_url or BENCH_URL
    dep = open_bench(url, verbose=False)
    if "marketing" not in seeded(dep):
        raise SystemExit(f"{url} is not seeded: run bench/seed.py first")
    env = {**dep.env, "PYTHONWARNINGS": "ignore", "CRM_LOG_JSON": "0",
           "REDIS_URL": "redis://127.0.0.1:6379/9"}
    workers = args.workers or 2 * (os.cpu_count() or 1) + 1
    chosen = load.targets(load.samples(dep, random.Random(11)))
    if args.only:
        parts = [p.strip().lower() for p in args.only.split(",") if p.strip()]
        chosen = [t for t in chosen if any(p in t.name.lower() for p in parts)]
    token = load.create_api_token(dep)
    print(f"recording the SQL of {len(chosen)} targets ...", flush=True)
    load.record(dep, env, token, chosen)
    queries = os.path.join(dep.instance, "floor_queries.pickle")
    with open(queries, "wb") as handle:
        pickle.dump({str(n): t.statements for n, t in enumerate(chosen)}, handle)
    env[load.QUERIES_ENV] = queries
    env["BENCH_FLOOR_KINDS"] = ",".join(f"{n}={t.kind}" for n, t in enumerate(chosen))

    load_before = load.loadavg()
    rows = []
    with load.serve("wsgi:app", env, workers, args.threads) as app_base, \
            load.serve("bench.load:bare()", env, workers, args.threads) as bare_base, \
            load.serve("bench.floor:floor()", env, workers, args.threads) as floor_base:
        cookie = load.sign_in(app_base)
        floor_headers = {"Cookie": floor_cookie(floor_base)}
        print(f"{'target':<22} {'page':>8} {'floor':>8} {'bare':>8} {'page/bare':>9} "
              f"{'floor/bare':>10}   (req/s)   p99 ms: page floor bare", flush=True)
        for n, target in enumerate(chosen):
            headers = ({"Authorization": f"Bearer {token}", "Accept": "application/json"}
                       if target.kind == "api" else {"Cookie": cookie})
            paths = [f"/{n}/{i}" for i in range(len(target.urls))]
            rps, p99 = {}, {}
            for side, base, urls, hdrs in (("page", app_base, target.urls, headers),
                                           ("floor", floor_base, paths, floor_headers),
                                           ("bare", bare_base, paths, {})):
                load.drive(base, urls, hdrs, args.warmup, args.concurrency)
                rate, lat, errors, first = load.drive(base, urls, hdrs, args.seconds,
                                                      args.concurrency)
                if errors:
                    raise SystemExit(f"{target.name} ({side}): {errors} failed; {first}")
                rps[side], p99[side] = rate, load.percentile(lat, 0.99) * 1000
            row = {"name": target.name, **rps, "p99": p99, "ratio": rps["page"] / rps["bare"],
                   "floor_ratio": rps["floor"] / rps["bare"]}
            rows.append(row)
            print(f"{target.name:<22} {rps['page']:8.1f} {rps['floor']:8.1f} "
                  f"{rps['bare']:8.1f} {row['ratio']:9.2f} {row['floor_ratio']:10.2f}   "
                  f"{p99['page']:.0f} {p99['floor']:.0f} {p99['bare']:.0f}", flush=True)
    load_after = load.loadavg()
    if not args.no_write:
        given = [a for a in (argv if argv is not None else sys.argv[1:])]
        command = ".venv/bin/python bench/floor.py " + " ".join(shlex.quote(a) for a in given)
        under = sum(r["floor_ratio"] < load.RATIO_TARGET for r in rows)
        text = [f"## Stack floor, run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
                f"Command: `{command.strip()}` (see its docstring: the floor is the required "
                "stack running the same statements with no application work)", "",
                f"- {os.cpu_count()} CPUs; gunicorn deploy/gunicorn.conf.py, {workers} workers "
                f"x {args.threads} threads for each of the three apps; {args.concurrency} "
                f"connections, {args.seconds:.0f} s per target and side",
                f"- Load average before: {load_before}; after: {load_after}",
                f"- Targets whose floor is under {load.RATIO_TARGET} of the bare ceiling: "
                f"{under} of {len(rows)}", "",
                "| target | page req/s | floor req/s | bare req/s | page/bare | floor/bare "
                "| page p99 ms | floor p99 ms | bare p99 ms |",
                "|---|---|---|---|---|---|---|---|---|"]
        text += [f"| {r['name']} | {r['page']:.1f} | {r['floor']:.1f} | {r['bare']:.1f} | "
                 f"{r['ratio']:.2f} | {r['floor_ratio']:.2f} | {r['p99']['page']:.0f} | "
                 f"{r['p99']['floor']:.0f} | {r['p99']['bare']:.0f} |" for r in rows]
        path = Path(args.results)
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
                        + "\n".join(text) + "\n", encoding="utf-8")
        print(f"\nwritten to {args.results}")
    return rows


if __name__ == "__main__":
    main()
