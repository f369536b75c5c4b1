"""Per-customer recency/frequency/monetary summaries of a purchase history, and CSV reading.

How a purchase history becomes (x, t_x, T, m), as in Fader, Hardie & Lee's CDNOW work:

- Only purchases on or before ``until`` (the end of the calibration period) count; a customer
  whose first purchase is after it is not in the summary.
- The first purchase day is the customer's birth (time 0). Purchases are combined per
  calendar day: all purchases of one customer on one day are one transaction whose value is
  their sum (the CDNOW data records several orders on some days; the papers count days).
- ``x`` is the number of days after the first one with a purchase (repeat transactions),
  ``t_x`` the time from the first to the last of them (0 when x = 0), ``T`` the time from the
  first purchase to ``until``, all in ``unit`` (day = 1, week = 7 days). The unit only scales
  time; it does not merge purchases of the same week.
- ``m`` is the mean value of the repeat transactions (the first day's value is left out, as
  in the Gamma-Gamma note); 0 when x = 0.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import numpy as np

UNITS = {"day": 1.0, "week": 7.0}

_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


class PurchaseFileError(ValueError):
    """A purchase file cannot be read; the message names the row and the reason."""


@dataclass(frozen=True)
class Summary:
    """Per-customer arrays, all of the same length, in the order of ``customer_ids``."""

    customer_ids: list[str]
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    m: np.ndarray
    total: np.ndarray  # all calibration-period spend, first purchase included
    unit: str

    def __len__(self) -> int:
        return len(self.customer_ids)

    @property
    def repeat_customers(self) -> int:
        return int(np.count_nonzero(self.x > 0))


def parse_date(text: str) -> date:
    """An ISO date (YYYY-MM-DD); years before 1700 are read as Jalali (e.g. 1402-01-15)."""
    cleaned = text.strip().translate(_DIGITS).replace("/", "-")
    try:
        year, month, day = (int(part) for part in cleaned.split("-"))
        if year < 1700:
            import jdatetime

            return jdatetime.date(year, month, day).togregorian()
        return date(year, month, day)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD, Gregorian or Jalali)") from exc


def summarise(rows: Iterable[tuple[str, date, float]], until: date, unit: str = "day") -> Summary:
    """Summarise (customer_id, date, amount) rows up to and including ``until``."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    days: dict[str, dict[int, float]] = {}
    for customer, when, amount in rows:
        if when > until:
            continue
        per_day = days.setdefault(str(customer), {})
        ordinal = when.toordinal()
        per_day[ordinal] = per_day.get(ordinal, 0.0) + float(amount)
    end = until.toordinal()
    n = len(days)
    ids = list(days)
    x, t_x, T, m, total = (np.zeros(n) for _ in range(5))
    for i, customer in enumerate(ids):
        per_day = days[customer]
        ordinals = sorted(per_day)
        first = ordinals[0]
        x[i] = len(ordinals) - 1
        t_x[i] = ordinals[-1] - first
        T[i] = end - first
        values = [per_day[o] for o in ordinals]
        total[i] = sum(values)
        if len(ordinals) > 1:
            m[i] = sum(values[1:]) / (len(ordinals) - 1)
    scale = UNITS[unit]
    return Summary(ids, x, t_x / scale, T / scale, m, total, unit)


def read_purchases(lines: Iterable[str]) -> Iterator[tuple[str, date, float]]:
    """Stream (customer_id, date, amount) from CSV text with a header naming those columns."""
    reader = csv.DictReader(lines)
    needed = {"customer_id", "date", "amount"}
    header = {name.strip().lower() for name in (reader.fieldnames or [])}
    if not needed <= header:
        missing = ", ".join(sorted(needed - header))
        raise PurchaseFileError(f"the file has no column {missing} "
                                "(needed: customer_id, date, amount)")
    for row in reader:
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        line = reader.line_num
        customer = row["customer_id"]
        if not customer:
            raise PurchaseFileError(f"line {line}: customer_id is empty")
        try:
            when = parse_date(row["date"])
        except ValueError as exc:
            raise PurchaseFileError(f"line {line}: {exc}") from exc
        try:
            amount = Decimal(row["amount"].translate(_DIGITS).replace(",", ""))
        except InvalidOperation as exc:
            raise PurchaseFileError(f"line {line}: amount {row['amount']!r} is not a number") \
                from exc
        yield customer, when, float(amount)
