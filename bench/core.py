"""Core throughput under gunicorn, as ratios to a bare Flask route served the same way.

    .venv/bin/python bench/core.py [--seconds 5] [--workers 1]

Prints: dashboard (signed in) / bare route, API call (/api/v1/me with a token) / bare route,
and the license + module + permission gate's cost (the same dashboard with and without the
gates). Targets from issue 2: gate cost under 5%, API at least half the bare route's rate.
Uses a throwaway SQLite deployment unless DATABASE_URL is set.
"""

import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._load import PYTHON, ROOT, gunicorn, requests_per_second  # noqa: E402

EMAIL, PASSWORD = "bench@example.ir", "bench-password-123"
# Sessions are bound to the client (Flask-Login "strong" protection): one agent for all requests.
USER_AGENT = "peyvand-bench"


def flask_cli(env, *args) -> str:
    flask = str(Path(PYTHON).with_name("flask"))
    result = subprocess.run([flask, "--app", "wsgi", *args], cwd=ROOT, env={**os.environ, **env},
                            capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def session_cookie(base: str) -> str:
    """Sign in through the real form and return the Cookie header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(f"{base}/auth/login").read().decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    opener.open(f"{base}/auth/login", data=data.encode())
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "session=" not in cookie:
        raise SystemExit("could not sign in for the benchmark")
    return cookie


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="peyvand-bench-")
    env = {"CRM_INSTANCE_PATH": instance, "SECRET_KEY": "bench-secret"}
    if "DATABASE_URL" not in os.environ:
        env["DATABASE_URL"] = f"sqlite:///{instance}/bench.db"
    flask_cli(env, "crm", "init")
    flask_cli(env, "crm", "user", "create", "--email", EMAIL, "--password", PASSWORD,
              "--role", "admin")
    token = flask_cli(env, "crm", "token", "create", "--email", EMAIL).strip().split()[-1]

    def rate(spec, path, headers):
        with gunicorn(spec, env, args.workers) as base:
            if headers == "session":
                headers = {"Cookie": session_cookie(base)}
            headers = {"User-Agent": USER_AGENT, **headers}
            return requests_per_second(base + path, headers, args.seconds, args.concurrency)

    runs: dict[str, list[float]] = {"bare": [], "dashboard": [], "ungated": [], "api": []}
    for _ in range(args.rounds):  # interleaved rounds, medians: drift hits every variant alike
        runs["bare"].append(rate("bench.apps:bare()", "/", {}))
        runs["dashboard"].append(rate("bench.apps:full()", "/", "session"))
        runs["ungated"].append(rate("bench.apps:ungated()", "/", "session"))
        runs["api"].append(rate("bench.apps:full()", "/api/v1/me",
                                {"Authorization": f"Bearer {token}"}))
    bare, dashboard, ungated, api = (statistics.median(runs[k])
                                     for k in ("bare", "dashboard", "ungated", "api"))

    gate_cost = 1 - dashboard / ungated
    print(f"bare Flask route:            {bare:9.0f} req/s (ceiling)")
    print(f"dashboard, signed in:        {dashboard:9.0f} req/s  ratio {dashboard / bare:.3f}")
    print(f"dashboard without the gates: {ungated:9.0f} req/s  ratio {ungated / bare:.3f}")
    print(f"API GET /api/v1/me (token):  {api:9.0f} req/s  ratio {api / bare:.3f}  (target >= 0.5)")
    print(f"gate cost: {gate_cost:+.1%} of the dashboard's rate (target < 5%); "
          f"median of {args.rounds} interleaved rounds")


if __name__ == "__main__":
    main()
