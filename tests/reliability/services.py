"""Real processes for the reliability suite: the app under gunicorn, ``crm worker``, and private
PostgreSQL and Redis servers that a test may restart or stop without touching the shared ones."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float = 30.0, every: float = 0.05, what: str = "condition"):
    """Call ``check`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception:  # noqa: BLE001, S110 - not ready yet
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def process_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CRM_", "DATABASE_",
                                                                    "REDIS_", "FLASK_"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    return env


def start_web(port: int, env: dict, log: Path, threads: int = 4) -> subprocess.Popen:
    """``gunicorn wsgi:app`` with one process and ``threads`` threads on ``port``."""
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "1", "--threads", str(threads), "-b", f"127.0.0.1:{port}",
         "--graceful-timeout", "2", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True)


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    """``flask --app wsgi crm worker``."""
    return subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "crm", "worker"], cwd=ROOT,
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def quiet_scheduler(app, minutes: int = 10) -> None:
    """Claim the periodic jobs' ticks for the next ``minutes`` so the workers' ticker leaves
    the queue to the test (the claim is the ticker's own ``SET NX``, see core.jobs.cli)."""
    from core import jobs
    from core.jobs.cli import claim_tick

    with app.app_context():
        connection, prefix = jobs.redis_connection(), jobs.queue_name()
        now = time.time()
        for entry in jobs.periodic_jobs().values():
            for step in range(0, minutes * 60 + entry.every, entry.every):
                claim_tick(connection, entry, now + step, prefix=prefix)


def wait_http(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    def up():
        assert process.poll() is None, f"{url}: the server exited ({process.returncode})"
        return requests.get(url, timeout=2).status_code < 500

    wait_until(up, timeout, 0.1, f"{url} to answer")


def signal_group(process: subprocess.Popen, sig: int) -> None:
    """Send ``sig`` to the process and its children (RQ's scheduler and work horses)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def stop(*processes: subprocess.Popen | None, hard: bool = False) -> None:
    """Stop the processes (SIGTERM, or SIGKILL when ``hard``) with their children, together."""
    running = [p for p in processes if p is not None]
    for process in running:
        signal_group(process, signal.SIGKILL if hard else signal.SIGTERM)
    for process in running:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait(10)


class PrivateRedis:
    """``redis-server`` on a free port, no persistence; ``stop()`` takes it down."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> "PrivateRedis":
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        import redis

        wait_until(lambda: redis.Redis.from_url(self.url).ping(), 10, what="redis-server")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


class PrivatePostgres:
    """A throwaway PostgreSQL cluster (initdb as the postgres user) on a free port."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="crm-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def available() -> bool:
        return (PG_BIN / "initdb").exists() and shutil.which("runuser") is not None \
            and os.geteuid() == 0

    def _as_postgres(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> "PrivatePostgres":
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                          "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.ctl("start")
        return self

    def ctl(self, action: str) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.dir / "log"), "-m", "fast", "-w", action)

    def stop(self) -> None:
        try:
            self.ctl("stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
