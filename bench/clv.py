"""CLV recompute at scale: fit BG/NBD + Gamma-Gamma and score every customer.

    .venv/bin/python bench/clv.py [--customers 1000000] [--purchases-csv]

Simulates a base of customers (time in whole days, as summaries from a purchases table come),
then times: the BG/NBD fit (identical rows collapsed), the Gamma-Gamma fit, and scoring every
customer (P(alive), expected purchases and value in 90 days, priority). Prints wall times, the
fits' parameters against the truth, and the peak memory of the process. With
``--purchases-csv`` it also writes the simulated purchases to a CSV and times the streaming
``summarise`` of that file (the path ``crm analytics fit`` takes).
"""

import argparse
import csv
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.analytics import clv  # noqa: E402
from core.analytics.simulate import simulate_bgnbd, simulate_spend  # noqa: E402
from core.analytics.summary import read_purchases, summarise  # noqa: E402
from core.analytics.value import score_arrays  # noqa: E402

TRUE_BG = (0.5, 60.0, 0.6, 2.5)  # alpha in days: one purchase per ~4 months on average
TRUE_GG = (6.0, 4.0, 150_000.0)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label, func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    print(f"{label:<34} {time.perf_counter() - start:8.2f} s   peak {peak_mib():8.0f} MiB")
    return result


def write_purchases(path, rng, x, t_x, T, m) -> int:
    """One row per purchase day: birth, x - 1 random days before t_x, and t_x."""
    until = date(2025, 12, 31)
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["customer_id", "date", "amount"])
        for i in range(len(x)):
            birth = until - timedelta(days=int(T[i]))
            days = {0}
            if x[i] > 0:
                days.add(int(t_x[i]))
                while len(days) < x[i] + 1 and len(days) < t_x[i] + 1:
                    days.add(int(rng.integers(1, max(int(t_x[i]), 1) + 1)))
            for d in sorted(days):
                out.writerow([i, (birth + timedelta(days=d)).isoformat(), f"{m[i]:.0f}"])
                rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases-csv", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    n = args.customers
    T = rng.integers(1, 731, n).astype(float)
    x, t_x, T = timed("simulate summaries", simulate_bgnbd, rng, n, *TRUE_BG, T)
    t_x = np.floor(t_x)
    m = np.round(simulate_spend(rng, x, *TRUE_GG), -3)
    print(f"{n} customers, {int(x.sum()) + n} purchases, {int((x > 0).sum())} repeat buyers")

    if args.purchases_csv:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "purchases.csv"
            rows = timed("write purchases CSV", write_purchases, path, rng, x, t_x, T, m)
            with open(path, encoding="utf-8") as handle:
                summary = timed(f"summarise {rows} CSV rows", summarise, read_purchases(handle),
                                date(2025, 12, 31), "day")
            print(f"    {rows / max(len(summary), 1):.1f} rows per customer")

    bg = timed("fit BG/NBD", clv.fit_bgnbd, x, t_x, T)
    print(f"    r={bg.r:.3f} alpha={bg.alpha:.2f} a={bg.a:.3f} b={bg.b:.3f} (true {TRUE_BG})")
    gg = timed("fit Gamma-Gamma", clv.fit_gamma_gamma, x, m)
    print(f"    p={gg.p:.2f} q={gg.q:.2f} v={gg.v:.0f} (true {TRUE_GG})")
    scores = timed("score every customer (90 days)", score_arrays, bg, gg, x, t_x, T, m,
                   horizon_days=90, unit="day", monthly_discount=0.01)
    print(f"    mean P(alive) {scores['p_alive'].mean():.3f}, "
          f"mean 90-day value {scores['predicted_value'].mean():,.0f}")
    print(f"peak memory {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
