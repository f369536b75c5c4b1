"""Jobs the reliability tests enqueue; workers import them from here (keep imports light)."""

import os
import time

from core.audit import record
from core.extensions import db

ACTION = "reliability.job"


def mark(n: int, pause: float = 0.05) -> None:
    """Write one audit row naming ``n`` and the worker that ran it (the horse's parent)."""
    time.sleep(pause)
    record(ACTION, target=str(n), detail={"worker": os.getppid()})
    db.session.commit()
