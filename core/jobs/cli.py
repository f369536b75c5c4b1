"""The worker: ``flask --app wsgi crm worker [--burst]`` runs RQ jobs and the periodic ticker.

With Redis, the worker is an RQ worker with RQ's scheduler (for ``enqueue_in``/``enqueue_at``
jobs) plus a ticker thread for the periodic jobs. RQ 3.0's ``CronScheduler`` enqueues from
every scheduler process independently, so two workers would run each periodic job twice; the
ticker instead claims each tick with ``SET NX`` on a key named after the job and the tick
number, and only the winner enqueues it. Without Redis the same command runs the periodic
jobs in this process (run one such worker only).
"""

import os
import threading
import time

import click
from flask import Flask, current_app
from rq import Worker
from sqlalchemy.orm import configure_mappers

from core import jobs
from core.cli import crm
from core.extensions import db


class AppWorker(Worker):
    """An RQ worker whose jobs run in one app, created once; forked horses reconnect."""

    def __init__(self, *args, app: Flask, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        self._parent_pid = os.getpid()
        jobs.set_worker_app(app)
        # Configure the ORM's mappers once here: a forked work horse would otherwise pay for it
        # (about a second with every module loaded) in each job.
        configure_mappers()

    def perform_job(self, job, queue, execution) -> bool:
        if os.getpid() != self._parent_pid:
            with self.app.app_context():  # a forked horse must not share the parent's sockets
                for engine in db.engines.values():
                    engine.dispose(close=False)
        return super().perform_job(job, queue, execution)


def claim_tick(connection, entry: jobs.Periodic, now: float, prefix: str = "peyvand") -> bool:
    """Whether this caller won the current tick of ``entry`` (SET NX: one winner per tick)."""
    tick = int(now // entry.every)
    key = f"{prefix}:periodic:{entry.name}:{tick}"
    return bool(connection.set(key, os.getpid(), nx=True, ex=max(entry.every * 3, 60)))


def tick(app: Flask, now: float | None = None) -> list[str]:
    """Enqueue every periodic job whose current tick nobody has claimed yet; returns their names."""
    now = time.time() if now is None else now
    connection = jobs.redis_connection(app)
    queue = jobs.queue(app)
    enqueued = []
    for entry in jobs.periodic_jobs().values():
        if claim_tick(connection, entry, now, prefix=jobs.queue_name(app)):
            queue.enqueue(jobs.run_job, "core.jobs:run_periodic", (entry.name,), {},
                          description=f"periodic {entry.name}")
            enqueued.append(entry.name)
    return enqueued


class Ticker(threading.Thread):
    """Calls ``tick`` every second until stopped."""

    def __init__(self, app: Flask):
        super().__init__(name="peyvand-ticker", daemon=True)
        self.app = app
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            try:
                tick(self.app)
            except Exception:  # noqa: BLE001 - keep ticking through a Redis hiccup
                jobs.log.exception("periodic tick failed")


def run_inline_periodic(app: Flask, burst: bool) -> None:
    """Without Redis: run each periodic job in this process when it is due."""
    last: dict[str, float] = {}
    while True:
        now = time.time()
        for entry in jobs.periodic_jobs().values():
            if now - last.get(entry.name, 0) >= entry.every:
                last[entry.name] = now
                try:
                    jobs.run_job("core.jobs:run_periodic", (entry.name,))
                except Exception:  # noqa: BLE001 - one failing job must not stop the others
                    jobs.log.exception("periodic job %s failed", entry.name)
        if burst:
            return
        time.sleep(1.0)


@crm.command("worker")
@click.option("--burst", is_flag=True, help="Run what is queued and one periodic tick, then exit.")
def worker_command(burst: bool):
    """Run background jobs and the periodic scheduler."""
    app = current_app._get_current_object()
    if jobs.is_inline(app):
        click.echo("No REDIS_URL: running periodic jobs in this process (inline mode).")
        run_inline_periodic(app, burst)
        return
    names = ", ".join(sorted(jobs.periodic_jobs())) or "none"
    click.echo(f"Worker on queue {jobs.queue_name(app)!r}; periodic jobs: {names}")
    worker = AppWorker([jobs.queue_name(app)], connection=jobs.redis_connection(app), app=app)
    if burst:
        tick(app)
        worker.work(burst=True, with_scheduler=True)
        return
    ticker = Ticker(app)
    ticker.start()
    try:
        worker.work(with_scheduler=True)
    finally:
        ticker.stopped.set()
