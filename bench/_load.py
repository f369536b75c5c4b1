"""Shared bench helpers: serve an app under gunicorn and measure requests per second.

The load comes from ``wrk`` when it is installed (``apt-get install wrk``), else from a small
multi-process Python client. Every number a bench prints is a ratio to a ceiling measured in
the same run with the same client, so the client's own cost cancels out.
"""

import http.client
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict, workers: int = 1):
    """Run ``gunicorn app_spec`` on a free port; yield the base URL."""
    port = free_port()
    gunicorn_bin = str(Path(PYTHON).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn_bin, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         app_spec],
        cwd=ROOT, env={**os.environ, **env},
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"gunicorn {app_spec} did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _python_worker(url, headers, seconds, queue):
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1] if url.count("/") > 2 else "/"
    count, errors, end = 0, 0, time.perf_counter() + seconds
    conn = None
    while time.perf_counter() < end:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
            count += 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except OSError:
            errors += 1
            conn = None
    queue.put((count, errors))


def requests_per_second(url: str, headers: dict | None = None, seconds: float = 5.0,
                        concurrency: int = 4) -> float:
    """Throughput of GET ``url``; fails loudly if any response is not 200."""
    headers = headers or {}
    check = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
         *[arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")], url],
        capture_output=True, text=True,
    ) if shutil.which("curl") else None
    if check is not None and check.stdout != "200":
        raise RuntimeError(f"{url} answered {check.stdout}, not 200")
    if shutil.which("wrk"):
        args = ["wrk", "-t", "2", "-c", str(concurrency), "-d", f"{seconds}s", "--latency"]
        for key, value in headers.items():
            args += ["-H", f"{key}: {value}"]
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
        if "Non-2xx" in out:
            raise RuntimeError(f"non-200 answers from {url}:\n{out}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_python_worker, args=(url, headers, seconds, queue))
             for _ in range(concurrency)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    total, errors = sum(r[0] for r in results), sum(r[1] for r in results)
    if errors:
        raise RuntimeError(f"{errors} failed requests to {url}")
    return total / seconds
