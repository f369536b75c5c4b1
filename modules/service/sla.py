"""Business-time arithmetic over a calendar (time zone, weekly spans, holidays). Pure: no DB.

    cal = BusinessCalendar("Asia/Tehran", {5: [(480, 1020)], ...}, holidays={date(2025, 3, 21)})
    cal.elapsed(start, end)            # business time between two instants (timedelta >= 0)
    cal.add(start, timedelta(hours=4)) # the instant 4 business hours after start

Instants are aware datetimes (naive ones are read as UTC, as SQLite returns them). Each local
day's working spans become UTC intervals clamped inside that day and after each other, so the
intervals are disjoint and sorted even across DST changes; ``elapsed`` and ``add`` walk the same
intervals, hence ``cal.elapsed(s, cal.add(s, d)) == d``. Ticket clocks (first response,
resolution) are derived from a status history by ``clock_segments`` and measured by ``measure``.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
MAX_DAYS = 3660  # add() gives up (None) after ten years without enough working time
WAITING = ("waiting_customer", "waiting_third_party")
DONE = ("resolved", "closed")


def aware(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    tz = value.tzinfo
    if tz is UTC:
        return value
    if tz is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def normalise_hours(hours: Mapping | None) -> dict[int, tuple[tuple[int, int], ...]]:
    """``{"5": [[480, 1020]], ...}`` (JSON, Python weekdays) as sorted, merged minute spans."""
    result: dict[int, tuple[tuple[int, int], ...]] = {}
    for key, spans in (hours or {}).items():
        weekday = int(key)
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday {key!r} is not 0-6 (Monday-Sunday)")
        clean = []
        for start, end in sorted((int(s), int(e)) for s, e in spans or ()):
            if not 0 <= start < end <= 1440:
                raise ValueError(f"span {start}-{end} is not inside one day (0-1440 minutes)")
            if clean and start <= clean[-1][1]:
                clean[-1] = (clean[-1][0], max(clean[-1][1], end))
            else:
                clean.append((start, end))
        if clean:
            result[weekday] = tuple(clean)
    return result


class BusinessCalendar:
    """Working spans per weekday in a time zone, minus whole-day holidays (local dates)."""

    def __init__(self, timezone: str = "Asia/Tehran", hours: Mapping | None = None,
                 holidays: Iterable[date] = ()):
        self.zone = ZoneInfo(timezone)
        self.hours = normalise_hours(hours)
        self.holidays = frozenset(holidays)
        self._days: dict[date, tuple[tuple[datetime, datetime], ...]] = {}
        self._totals: dict[date, timedelta] = {}

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def intervals(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The UTC working intervals of local ``day`` (cached)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        found: list[tuple[datetime, datetime]] = []
        spans = () if day in self.holidays else self.hours.get(day.weekday(), ())
        if spans:
            floor, ceiling = self._midnight(day), self._midnight(day + ONE_DAY)
            for start, end in spans:
                a = max(self._at(day, start, ceiling), floor)
                b = min(self._at(day, end, ceiling), ceiling)
                if found:
                    a = max(a, found[-1][1])
                if b > a:
                    found.append((a, b))
        result = tuple(found)
        if len(self._days) > 20000:
            self._days.clear()
            self._totals.clear()
        self._days[day] = result
        return result

    def _at(self, day: date, minute: int, ceiling: datetime) -> datetime:
        if minute >= 1440:
            return ceiling
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(UTC)

    def local_date(self, instant: datetime) -> date:
        """The local calendar date of ``instant``."""
        return aware(instant).astimezone(self.zone).date()

    def total(self, day: date) -> timedelta:
        """Business time of the whole local ``day`` (cached)."""
        found = self._totals.get(day)
        if found is None:
            found = sum((b - a for a, b in self.intervals(day)), ZERO)
            self._totals[day] = found
        return found

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; zero when ``end`` is not after ``start``."""
        start, end = aware(start), aware(end)
        if end <= start or not self.hours:
            return ZERO
        # a local day's intervals lie between its midnight and the next, so the days strictly
        # between the first and the last count whole
        first, last = self.local_date(start), self.local_date(end)
        total = ZERO
        for day in (first, last) if first != last else (first,):
            for a, b in self.intervals(day):
                lo = a if a > start else start
                hi = b if b < end else end
                if hi > lo:
                    total += hi - lo
        day = first + ONE_DAY
        while day < last:
            total += self.total(day)
            day += ONE_DAY
        return total

    def add(self, start: datetime, amount: timedelta) -> datetime | None:
        """The instant when ``amount`` of business time has passed since ``start``.

        None when the calendar has no working time (or none for ten years).
        """
        start = aware(start)
        if amount <= ZERO:
            return start
        if not self.hours:
            return None
        remaining = amount
        day = self.local_date(start)
        for _i in range(MAX_DAYS):
            whole = self.intervals(day)
            if whole and whole[0][0] >= start and remaining > self.total(day):
                remaining -= self.total(day)
                day += ONE_DAY
                continue
            for a, b in whole:
                if b <= start:
                    continue
                lo = a if a > start else start
                available = b - lo
                if remaining <= available:
                    return lo + remaining
                remaining -= available
            day += ONE_DAY
        return None


def business_elapsed(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time between two instants (see ``BusinessCalendar.elapsed``)."""
    return calendar.elapsed(start, end)


def add_business(calendar: BusinessCalendar, start: datetime, amount: timedelta
                 ) -> datetime | None:
    """The instant ``amount`` of business time after ``start`` (see ``BusinessCalendar.add``)."""
    return calendar.add(start, amount)


# --- ticket clocks ---------------------------------------------------------------------------

Segment = tuple[datetime, datetime | None]  # a running stretch; None: still running


@dataclass(frozen=True)
class Clocks:
    """The running stretches of both clocks and where each stopped (None: not stopped)."""

    first_response: list[Segment]
    first_response_stop: datetime | None
    resolution: list[Segment]
    resolution_stop: datetime | None


def status_history(created_at: datetime, events: Sequence) -> list[tuple[datetime, str]]:
    """``[(at, status)]`` from events with ``at``, ``kind`` and ``new`` (sorted by the caller)."""
    history = [(aware(created_at), "new")]
    for event in events:
        kind = event.kind
        if kind == "status" and event.new:
            history.append((max(aware(event.at), history[0][0]), event.new))
        elif kind == "created" and event.new:
            history[0] = (aware(event.at), event.new)
    return history


def _segments(history, running, stop: datetime | None) -> list[Segment]:
    found: list[Segment] = []
    since: datetime | None = None
    for at, status in history:
        if stop is not None and at >= stop:
            break
        if running(status) and since is None:
            since = at
        elif not running(status) and since is not None:
            found.append((since, at))
            since = None
    if since is not None:
        found.append((since, stop))
    return found


def clock_segments(created_at: datetime, events: Sequence) -> Clocks:
    """Both clocks of a ticket from its events (ordered by time, then id).

    First response runs from creation until the first public reply (or the first resolution);
    resolution runs until the ticket is resolved or closed, and resumes when it is reopened.
    Both pause in the waiting statuses.
    """
    history = status_history(created_at, events)
    reply = next((e.at for e in events if e.kind == "reply"), None)
    resolved = next((at for at, status in history if status in DONE), None)
    stops = [aware(reply)] if reply is not None else []
    if resolved is not None:
        stops.append(resolved)
    fr_stop = min(stops, default=None)
    res_stop = _last_entry(history) if history[-1][1] in DONE else None
    live = lambda status: status not in WAITING and status not in DONE  # noqa: E731
    return Clocks(_segments(history, live, fr_stop), fr_stop,
                  _segments(history, live, res_stop), res_stop)


def _last_entry(history) -> datetime:
    """When the ticket last went from an open status into a done one."""
    index = len(history) - 1
    while index > 0 and history[index - 1][1] in DONE:
        index -= 1
    return history[index][0]


@dataclass(frozen=True)
class Measure:
    """One clock against its target."""

    elapsed: timedelta
    due: datetime | None  # when it ran / runs out; None while paused with time left
    breached: bool
    warning: bool
    stopped: bool

    @property
    def state(self) -> str:
        """ok | warning | breached | met."""
        if self.breached:
            return "breached"
        if self.stopped:
            return "met"
        return "warning" if self.warning else "ok"


def measure(calendar: BusinessCalendar, segments: Sequence[Segment], stop: datetime | None,
            target: timedelta, warn_percent: int, now: datetime) -> Measure:
    """Elapsed business time of the running ``segments`` up to ``now`` against ``target``."""
    now = aware(now)
    end_of_clock = min(stop, now) if stop is not None else now
    elapsed, breach_at, due = ZERO, None, None
    for index, (start, seg_end) in enumerate(segments):
        if start > end_of_clock:
            break
        end = end_of_clock if seg_end is None else min(seg_end, end_of_clock)
        part = calendar.elapsed(start, end)
        if breach_at is None and elapsed + part >= target:
            breach_at = calendar.add(start, target - elapsed)
        if seg_end is None or (index == len(segments) - 1 and seg_end == stop):
            due = calendar.add(start, target - elapsed) if elapsed < target else breach_at
        elapsed += part
    if breach_at is not None:
        due = breach_at
    stopped = stop is not None and stop <= now
    if stopped:
        breached = breach_at is not None and breach_at < stop
    else:
        breached = breach_at is not None and breach_at <= now
    warning = not stopped and not breached and target > ZERO and (
        elapsed * 100 >= target * warn_percent)
    return Measure(elapsed, due, breached, warning, stopped)
