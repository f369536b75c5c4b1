"""SLA recompute of open tickets at scale: wall time, tickets/s, ratio to a bare read.

    .venv/bin/python bench/sla_recompute.py [--count 100000] [--customers 2000] [--rounds 3]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--sqlite]

Seeds a throwaway deployment (bench/seed.py: a private PostgreSQL schema dropped afterwards, or
SQLite with --sqlite) with ``--count`` open tickets (new, open, waiting) opened over the last
three weeks, each with its event history (created, first reply, waits and resumes; about four
events a ticket), written in bulk. Then runs the real job ``sla_jobs.recompute_open`` at a
fixed "now":

- **first run**: every ticket's cache is computed and written (the seeded cache is empty);
- **steady run**: the same "now" again, so nothing changes: reads and computation only;
- **bare read**: the same batched reads through the same stack (SQLAlchemy session, the job's
  own ticket and event statements, every row fetched), with no computation and no writes:
  the ceiling.

Prints the wall time and tickets per second of each, and the ratio job / bare read
(interleaved rounds, medians).
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

from bench.seed import DEFAULT_PG, NOW, Loader, deployment, seed_customers  # noqa: E402

TICKET_COLUMNS = ["id", "subject", "type", "priority", "channel", "status", "customer_id",
                  "search_key", "created_at", "updated_at", "first_responded_at",
                  "public_replies"]
EVENT_COLUMNS = ["id", "ticket_id", "kind", "at", "old", "new"]
STATUSES = ("new", "open", "open", "open", "waiting_customer", "waiting_third_party")
PRIORITIES = ("low", "normal", "normal", "high", "urgent")
SPAN = 21 * 24 * 3600


def seed_tickets(dep, count: int, customers: int) -> int:
    """``count`` open tickets and their events in bulk; returns the number of events."""
    rng = random.Random(11)
    events: list[tuple] = []

    def tickets():
        event_id = 0
        for i in range(1, count + 1):
            created = NOW - timedelta(seconds=rng.randrange(3600, SPAN))
            status = rng.choice(STATUSES)
            history = [("created", created, "", "new")]
            replied = None
            if status != "new":
                replied = created + timedelta(minutes=rng.randrange(5, 3000))
                history += [("reply", replied, "", ""), ("status", replied, "new", "open")]
                moment = replied
                if rng.random() < 0.4 or status.startswith("waiting"):
                    moment += timedelta(minutes=rng.randrange(10, 2000))
                    history.append(("status", moment, "open", "waiting_customer"))
                    if status == "open":
                        moment += timedelta(minutes=rng.randrange(10, 2000))
                        history.append(("status", moment, "waiting_customer", "open"))
                    elif status == "waiting_third_party":
                        history[-1] = ("status", moment, "open", status)
            for kind, at, old, new in history:
                event_id += 1
                events.append((event_id, i, kind, min(at, NOW), old, new))
            yield (i, f"درخواست {i}", "request", rng.choice(PRIORITIES), "phone", status,
                   rng.randrange(1, customers + 1), f"t-{i:06d}", created, created,
                   replied if replied and replied < NOW else None, 1 if replied else 0)

    loader = Loader(dep)
    loader.drop_indexes(["service_ticket", "service_ticket_event"])
    loader.rows("service_ticket", TICKET_COLUMNS, tickets())
    loader.rows("service_ticket_event", EVENT_COLUMNS, iter(events))
    loader.commit()
    loader.finish(["service_ticket", "service_ticket_event"])
    loader.close()
    return len(events)


def bare_read(batch: int) -> int:
    """The job's reads, batch by batch, every row fetched; nothing computed or written."""
    from sqlalchemy import select

    from core.extensions import db
    from modules.service.models.tickets import DONE, Ticket
    from modules.service.sla_jobs import _COLUMNS, _load

    last_id, seen = 0, 0
    columns = [getattr(Ticket, c) for c in _COLUMNS]
    while True:
        rows = db.session.execute(
            select(*columns).where(Ticket.status.not_in(DONE), Ticket.merged_into_id.is_(None),
                                   Ticket.id > last_id).order_by(Ticket.id).limit(batch)).all()
        if not rows:
            db.session.commit()
            return seen
        last_id = rows[-1].id
        _load([r.id for r in rows])
        db.session.commit()
        seen += len(rows)


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--sqlite", action="store_true", help="use SQLite instead")
    args = parser.parse_args()

    with deployment(None if args.sqlite else args.database_url) as dep:
        started = time.perf_counter()
        seed_customers(dep, args.customers, verbose=False)
        n_events = seed_tickets(dep, args.count, args.customers)
        print(f"{dep.dialect}: {args.count} open tickets, {n_events} events seeded in "
              f"{time.perf_counter() - started:.1f} s")
        app = dep.app()
        with app.app_context():
            from core.extensions import db
            from modules.service import sla_jobs

            first, counts = timed(sla_jobs.recompute_open, now=NOW)
            print(f"first run: {counts['tickets']} tickets, {counts['changed']} written, "
                  f"{first:.1f} s, {counts['tickets'] / first:,.0f} tickets/s")
            steady_times, bare_times = [], []
            for _round in range(args.rounds):
                took, counts = timed(sla_jobs.recompute_open, now=NOW)
                if counts["changed"]:
                    raise RuntimeError(f"a steady run rewrote {counts['changed']} tickets")
                steady_times.append(took)
                took, seen = timed(bare_read, sla_jobs.BATCH)
                if seen != args.count:
                    raise RuntimeError(f"bare read saw {seen} tickets, not {args.count}")
                bare_times.append(took)
            states = dict(db.session.execute(db.text(
                "SELECT sla_state, count(*) FROM service_ticket GROUP BY sla_state")).all())
            db.session.remove()
            db.engine.dispose()
    steady, bare = statistics.median(steady_times), statistics.median(bare_times)
    print(f"states after the run: {states}")
    print(f"{'':14} {'seconds':>8} {'tickets/s':>10} {'x bare':>7}")
    for label, took in (("first run", first), ("steady run", steady), ("bare read", bare)):
        print(f"{label:14} {took:8.2f} {args.count / took:10,.0f} {took / bare:7.1f}")


if __name__ == "__main__":
    main()
