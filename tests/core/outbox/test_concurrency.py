"""Two relays at once, each with its own connection: every message delivered exactly once.

Runs on the per-test SQLite file database, and on PostgreSQL when CRM_TEST_DATABASE_URL is
set (the ``app`` fixture then uses a private schema).
"""

import threading
import time
from collections import Counter

from sqlalchemy import func, select

from core import outbox
from core.extensions import db
from core.outbox import OutboxMessage

SEEN: list[int] = []
THREADS: list[int] = []
SEEN_LOCK = threading.Lock()


@outbox.handler("test.concurrent")
def slow_delivery(payload: dict, message) -> None:
    time.sleep(0.002)  # give the other relay time to try the same rows
    with SEEN_LOCK:
        SEEN.append(payload["n"])
        THREADS.append(threading.get_ident())


def test_two_relays_never_deliver_a_message_twice(app):
    SEEN.clear()
    THREADS.clear()
    total = 120
    with app.app_context():
        for n in range(total):
            # some ordered streams, some free messages
            aggregate = f"stream:{n % 5}" if n % 2 else None
            outbox.enqueue("test.concurrent", {"n": n}, aggregate=aggregate)
        db.session.commit()
        backend = db.engine.dialect.name

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def relay():
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(200):
                    delivered = outbox.relay_once(limit=10)["delivered"]
                    left = _pending()
                    db.session.rollback()
                    if delivered == 0 and left == 0:
                        break
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert len(set(THREADS)) == 2, "both relays (each with its own session) delivered some"
    duplicates = [n for n, count in Counter(SEEN).items() if count > 1]
    assert duplicates == [], f"delivered twice on {backend}: {duplicates}"
    assert sorted(SEEN) == list(range(total))
    # per-aggregate order held even with two relays
    for stream in range(5):
        delivered = [n for n in SEEN if n % 2 and n % 5 == stream]
        assert delivered == sorted(delivered)
    with app.app_context():
        assert outbox.status_counts()["delivered"] == total


def _pending() -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )
