"""Segment evaluation at scale: ``segments.count`` against the same question in bare SQL.

    .venv/bin/python bench/segment_eval.py [--customers 1000000] [--purchases 3000000]
                                           [--database-url postgresql://...] [--runs 3]

Seeds a throwaway PostgreSQL schema (``bench.seed``: customers with cities, consent, tags;
purchases), writes one RFM score row per buyer in SQL, then evaluates a realistic multi-rule
segment (Tehran, SMS consent, a tag-or-RFM-or-big-spender group, bought before but not in
the last 60 days) through ``modules.marketing.segments.count`` and a hand-written SQL query
of the same meaning, in the same run. Prints both counts (they must agree), the median wall
times and their ratio.
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import DEFAULT_PG, NOW, deployment, seed_customers, seed_purchases  # noqa: E402

RULES = {"match": "all", "rules": [
    {"field": "city", "op": "is", "value": "تهران"},
    {"field": "consent_sms", "op": "is", "value": True},
    {"match": "any", "rules": [
        {"field": "tag", "op": "has", "value": "1"},
        {"field": "rfm", "op": "is", "value": ["champions", "loyal"]},
        {"field": "purchase_total", "op": "gte", "value": 30_000_000, "days": 365}]},
    {"field": "last_purchase", "op": "not_last_days", "value": 60},
]}

BARE = """
SELECT count(*) FROM core_customer c
WHERE c.anonymised_at IS NULL
  AND EXISTS (SELECT 1 FROM core_address a WHERE a.customer_id = c.id AND a.city = 'تهران')
  AND c.consent_sms
  AND (EXISTS (SELECT 1 FROM core_customer_tag t WHERE t.customer_id = c.id AND t.tag_id = 1)
       OR EXISTS (SELECT 1 FROM core_customer_score s WHERE s.customer_id = c.id
                  AND s.segment IN ('champions', 'loyal'))
       OR c.id IN (SELECT p.customer_id FROM core_purchase p WHERE p.occurred_at >= :year
                   GROUP BY p.customer_id HAVING sum(p.amount) >= 30000000))
  AND EXISTS (SELECT 1 FROM core_purchase p WHERE p.customer_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM core_purchase p WHERE p.customer_id = c.id
                  AND p.occurred_at >= :recent)
"""

SCORES = """
INSERT INTO core_customer_score (customer_id, recency_days, frequency, monetary, r_score,
    f_score, m_score, segment, predicted_value_90d, priority, computed_at)
SELECT customer_id, 1, count(*), sum(amount), 3, 3, 3,
       (ARRAY['champions', 'loyal', 'potential_loyalists', 'new', 'at_risk', 'cant_lose',
              'hibernating', 'lost'])[1 + customer_id % 8],
       sum(amount) * 0.1, 1.0, now()
FROM core_purchase GROUP BY customer_id
"""


def median_time(func, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=3_000_000)
    parser.add_argument("--database-url", default=DEFAULT_PG)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with deployment(args.database_url) as dep:
        seed_customers(dep, args.customers)
        seed_purchases(dep, args.purchases, args.customers)
        engine = dep.engine()
        with engine.begin() as conn:
            conn.execute(text(SCORES))
            conn.execute(text("ANALYZE core_customer_score"))
        engine.dispose()

        from core.customers.models import customer_tags
        from core.extensions import db
        from modules.marketing import segments
        from modules.marketing.models.segments import Segment

        app = dep.app()
        with app.app_context(), app.test_request_context():
            segment = Segment(name="bench", kind="dynamic", rules=segments.validate(RULES))
            # warm the caches once for both, then time
            segments.count(segment, now=NOW)
            params = {"year": NOW - timedelta(days=365), "recent": NOW - timedelta(days=60)}
            bare_sql = text(BARE.replace("core_customer_tag ", customer_tags.name + " "))
            db.session.execute(bare_sql, params).scalar()
            ours, count = median_time(lambda: segments.count(segment, now=NOW), args.runs)
            bare, expected = median_time(
                lambda: db.session.execute(bare_sql, params).scalar(), args.runs)
        print(f"customers {args.customers}, purchases {args.purchases}, "
              f"median of {args.runs} runs")
        print(f"segments.count   {ours * 1000:9.1f} ms   {count} members")
        print(f"bare SQL         {bare * 1000:9.1f} ms   {expected} members")
        print(f"ratio            {ours / bare:9.2f} x")
        if count != expected:
            raise SystemExit("the counts differ: the rule engine and the bare SQL disagree")


if __name__ == "__main__":
    main()
