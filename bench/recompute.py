"""RFM + CLV recompute at scale: wall time and peak memory per step, SQL part vs a bare scan.

    .venv/bin/python bench/recompute.py [--customers 1000000] [--purchases 5000000]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--rounds 3]

Seeds a throwaway deployment (SQLite by default; a private PostgreSQL schema, dropped
afterwards, with --database-url) with customers and buy-till-you-die purchases (bench/seed.py),
then, in a fresh process so that its memory high-water mark is the recompute's own:

1. runs the real job ``core.analytics.jobs.recompute_scores`` once and prints the wall time of
   each of its steps (the functions of ``core.analytics.sql`` it calls) and the process's peak
   RSS after each, then the commit;
2. times the SQL RFM step (``core.analytics.sql.rfm_table``: one aggregate query with window
   functions, fetched into arrays) against a single aggregate scan of the purchases table
   fetched the same way (``SELECT customer_id, count(*), sum(amount), max(occurred_at) FROM
   core_purchase GROUP BY customer_id``), in interleaved rounds, and prints the ratio of the
   medians (how many bare scans one RFM step costs). A plain ``count(*)``/``sum`` scan with
   nothing fetched is printed too, as the floor of reading the table at all.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import NOW, deployment, seed_customers, seed_purchases  # noqa: E402

SCAN_SQL = ("SELECT customer_id, count(*), sum(amount), max(occurred_at) FROM core_purchase "
            "GROUP BY customer_id")
FLOOR_SQL = "SELECT count(*), sum(amount) FROM core_purchase"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def measure(url: str, instance: str, until: date, rounds: int) -> None:
    """The child process: the job with per-step times, then RFM vs the bare scan."""
    from sqlalchemy import text

    from core import create_app
    from core.analytics import jobs, sql
    from core.extensions import db

    app = create_app(None, SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="bench-secret",
                     CRM_UPLOAD_DIR=os.path.join(instance, "uploads"))
    steps: list[tuple[str, float, float]] = []

    def timed(name, func):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = func(*args, **kwargs)
            steps.append((name, time.perf_counter() - start, peak_mib()))
            return result
        return wrapper

    with app.app_context():
        base_rss, base_peak = rss_mib(), peak_mib()
        print(f"process before the job: RSS {base_rss:.0f} MiB, peak {base_peak:.0f} MiB")

        originals = {}
        for name in ("rfm_table", "fit_models", "score_columns", "write_scores", "pareto"):
            if hasattr(sql, name):
                originals[name] = getattr(sql, name)
                setattr(sql, name, timed(name, originals[name]))
        started = time.perf_counter()
        summary = jobs.recompute_scores(until)
        job = time.perf_counter() - started
        commit_start = time.perf_counter()
        db.session.commit()
        steps.append(("commit", time.perf_counter() - commit_start, peak_mib()))
        for name, func in originals.items():
            setattr(sql, name, func)

        print(f"recompute_scores({until}): {summary['customers']} customers scored, "
              f"fit error: {summary['fit_error'] or 'none'}")
        if summary["bgnbd"]:
            print("  BG/NBD " + ", ".join(f"{k}={v:.4g}" for k, v in summary["bgnbd"].items())
                  + ";  Gamma-Gamma " + ", ".join(f"{k}={v:.4g}"
                                                  for k, v in summary["gamma_gamma"].items()))
        if summary["pareto"]:
            print(f"  top 20% of customers bring {summary['pareto']['top_share']:.1%} "
                  "of the revenue")
        print(f"{'step':<16}{'wall s':>9}{'peak RSS MiB':>15}")
        accounted = 0.0
        for name, seconds, peak in steps:
            accounted += seconds
            print(f"{name:<16}{seconds:9.2f}{peak:15.0f}")
        print(f"{'(rest of job)':<16}{job - accounted + steps[-1][1]:9.2f}")
        job_peak = peak_mib()
        print(f"{'job + commit':<16}{job + steps[-1][1]:9.2f}{job_peak:15.0f}"
              f"   (+{job_peak - base_rss:.0f} MiB over the process before the job)")

        def run(statement):
            start = time.perf_counter()
            rows = db.session.execute(text(statement)).all()
            seconds = time.perf_counter() - start
            db.session.rollback()
            return seconds, len(rows)

        def rfm():
            start = time.perf_counter()
            table = sql.rfm_table(until)
            seconds = time.perf_counter() - start
            db.session.rollback()
            return seconds, len(table)

        times = {"scan": [], "rfm": [], "floor": []}
        for _ in range(rounds):  # interleaved: drift hits both alike
            times["floor"].append(run(FLOOR_SQL)[0])
            seconds, groups = run(SCAN_SQL)
            times["scan"].append(seconds)
            seconds, customers = rfm()
            times["rfm"].append(seconds)
        floor, scan, rfm_t = (statistics.median(times[k]) for k in ("floor", "scan", "rfm"))
        print(f"plain scan (count, sum; nothing fetched): {floor:8.2f} s")
        print(f"aggregate scan, {groups} groups fetched:  {scan:8.2f} s   (ceiling)")
        print(f"RFM SQL step (rfm_table), {customers} rows:  {rfm_t:8.2f} s   "
              f"ratio {rfm_t / scan:.2f} x the aggregate scan  "
              f"(median of {rounds} interleaved rounds)")
        print("RESULT " + json.dumps({
            "steps": {n: s for n, s, _p in steps}, "job_and_commit": job + steps[-1][1],
            "peak_mib": job_peak, "base_rss_mib": base_rss, "scan": scan, "floor": floor,
            "rfm": rfm_t, "ratio": rfm_t / scan, "customers": summary["customers"]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=5_000_000)
    parser.add_argument("--database-url", default=None,
                        help="PostgreSQL URL (a private schema is made and dropped); "
                             "default: SQLite in a temporary directory")
    parser.add_argument("--buyers", type=float, default=1.0,
                        help="share of the customers who bought (default 1: all are scored)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--until", default=None, help="score as of this day (default: the "
                        "seeded data's last day)")
    parser.add_argument("--measure", nargs=2, metavar=("URL", "INSTANCE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    until = date.fromisoformat(args.until) if args.until else NOW.date()
    if args.measure:
        measure(*args.measure, until, args.rounds)
        return

    where = "PostgreSQL" if args.database_url else "SQLite"
    print(f"seeding {args.customers} customers ({args.buyers:.0%} of them buyers) and "
          f"{args.purchases} purchases on {where}", flush=True)
    with deployment(args.database_url) as dep:
        seed_customers(dep, args.customers)
        seed_purchases(dep, args.purchases, args.customers, buyers=args.buyers)
        command = [sys.executable, __file__, "--measure", dep.url, dep.instance,
                   "--rounds", str(args.rounds), "--until", until.isoformat()]
        subprocess.run(command, check=True, env={**os.environ, **dep.env})


if __name__ == "__main__":
    main()
