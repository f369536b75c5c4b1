"""Demo purchases for the demo customers over the last two years, then the scores.

Customers buy at their own pace (a few loyal ones often, many once or twice, some stopped),
so the RFM grid, the Pareto curve and the lifetime-value fit all have something to show.
"""

import random
from datetime import timedelta

from sqlalchemy import select

from core.analytics.models import Purchase
from core.analytics.services import record_purchase
from core.database import utcnow
from core.extensions import db

DAYS = 730


def load_purchases(ctx) -> None:
    """Purchases for every demo customer (idempotent), then one recompute of the scores."""
    from core.analytics.jobs import recompute_scores
    from core.customers.models import Customer

    if db.session.execute(select(Purchase.id).where(Purchase.source == "pos").limit(1)).scalar():
        return
    rng = random.Random(1405)  # nosec B311  # repeatable demo data
    now = utcnow()
    ids = db.session.execute(select(Customer.id).order_by(Customer.id)).scalars().all()
    count = 0
    for customer_id in ids:
        # As the BG/NBD model has it: a personal buying rate, and after every purchase a
        # personal chance of never coming back.
        rate = rng.gammavariate(0.8, 1 / 40)  # purchases per day while active
        drop = rng.betavariate(0.8, 2.4)
        nu = rng.gammavariate(4.0, 1.0)  # Gamma-Gamma: a personal spending level
        day = float(rng.randrange(0, DAYS - 60))
        while day < DAYS:
            amount = max(10_000, int(rng.gammavariate(6.0, 1 / nu) * 2_000_000) // 10_000 * 10_000)
            record_purchase(customer_id, amount, now - timedelta(days=DAYS - day), "pos",
                            reference=f"POS-{customer_id}-{int(day)}")
            count += 1
            if rng.random() < drop:
                break
            day += 1 + rng.expovariate(rate)
    db.session.commit()
    recompute_scores()
    ctx.notes.append(f"Demo purchases: {count}, scored.")
