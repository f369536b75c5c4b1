"""SLA engine properties (hypothesis): random calendars, holidays, pauses and status histories."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from modules.service.sla import BusinessCalendar, clock_segments, measure

ZONES = ("Asia/Tehran", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
         "Asia/Beirut", "America/Santiago")  # the last two change the clock at midnight
STATUSES = ("new", "open", "waiting_customer", "waiting_third_party", "resolved", "closed")
BASE = datetime(2025, 3, 10, tzinfo=UTC)  # around Nowruz and the European DST change


@st.composite
def spans(draw):
    points = sorted(draw(st.sets(st.integers(0, 1440), min_size=0, max_size=6)))
    return [[a, b] for a, b in zip(points[::2], points[1::2], strict=False) if a < b]


@st.composite
def calendars(draw):
    hours = {str(day): draw(spans()) for day in range(7)}
    assume(any(hours.values()))
    holidays = draw(st.sets(st.dates(date(2025, 3, 1), date(2025, 5, 1)), max_size=25))
    return BusinessCalendar(draw(st.sampled_from(ZONES)), hours, holidays)


instants = st.integers(0, 40 * 24 * 3600 * 1000).map(
    lambda ms: BASE + timedelta(milliseconds=ms))
amounts = st.integers(0, 150 * 3600).map(lambda s: timedelta(seconds=s))


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, instants)
def test_elapsed_is_never_negative_and_zero_backwards(cal, a, b):
    assert cal.elapsed(a, b) >= timedelta(0)
    if b <= a:
        assert cal.elapsed(a, b) == timedelta(0)
    assert cal.elapsed(a, b) <= max(b - a, timedelta(0))


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, instants, instants)
def test_elapsed_adds_up_over_a_split(cal, a, b, c):
    a, b, c = sorted((a, b, c))
    assert cal.elapsed(a, c) == cal.elapsed(a, b) + cal.elapsed(b, c)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, amounts, amounts)
def test_add_then_measure_round_trip_and_monotone(cal, start, d1, d2):
    end = cal.add(start, d1)
    assert end is not None and end >= start
    assert cal.elapsed(start, end) == d1
    if d1 <= d2:
        assert end <= cal.add(start, d2)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, st.integers(0, 20 * 24 * 3600))
def test_elapsed_matches_a_plain_sum_over_sorted_disjoint_intervals(cal, start, length):
    end = start + timedelta(seconds=length)
    first, last = cal.local_date(start), cal.local_date(end)
    day, previous_end, plain = first - timedelta(days=2), None, timedelta(0)
    while day <= last + timedelta(days=2):
        for a, b in cal.intervals(day):
            assert a < b and (previous_end is None or previous_end <= a)
            previous_end = b
            overlap = min(b, end) - max(a, start)
            plain += max(overlap, timedelta(0))
        day += timedelta(days=1)
    assert cal.elapsed(start, end) == plain


def test_a_calendar_without_hours_never_gets_due():
    cal = BusinessCalendar("Asia/Tehran", {}, ())
    assert cal.add(BASE, timedelta(hours=1)) is None
    assert cal.elapsed(BASE, BASE + timedelta(days=3)) == timedelta(0)


def ev(minutes: int, kind: str, new: str = ""):
    return SimpleNamespace(at=BASE + timedelta(minutes=minutes), kind=kind, new=new)


@st.composite
def histories(draw):
    gaps = draw(st.lists(st.integers(1, 3000), max_size=12))
    events, t = [ev(0, "created", "new")], 0
    for gap in gaps:
        t += gap
        if draw(st.booleans()):
            events.append(ev(t, "status", draw(st.sampled_from(STATUSES))))
        else:
            events.append(ev(t, "reply"))
    return events


def clocks_of(cal, events, now, target=timedelta(hours=8)):
    c = clock_segments(BASE, events)
    fr = measure(cal, c.first_response, c.first_response_stop, target, 80, now)
    res = measure(cal, c.resolution, c.resolution_stop, target * 3, 80, now)
    return fr, res


def status_at(events, index):
    status = "new"
    for event in events[: index + 1]:
        if event.kind in ("created", "status"):
            status = event.new
    return status


@settings(max_examples=200, deadline=None)
@given(calendars(), histories(), st.integers(0, 40000), st.data())
def test_pausing_never_adds_time_and_elapsed_is_never_negative(cal, events, extra, data):
    now = events[-1].at + timedelta(minutes=extra)
    fr, res = clocks_of(cal, events, now)
    assert fr.elapsed >= timedelta(0) and res.elapsed >= timedelta(0)
    # a pause inserted between two events (or after the last one), then the status comes back
    index = data.draw(st.integers(0, len(events) - 1))
    upper = events[index + 1].at if index + 1 < len(events) else now
    room = int((upper - events[index].at).total_seconds())
    assume(room >= 2)
    t1 = data.draw(st.integers(1, room - 1))
    t2 = data.draw(st.integers(t1, room - 1))
    at1 = events[index].at + timedelta(seconds=t1)
    at2 = events[index].at + timedelta(seconds=t2)
    paused = (events[: index + 1]
              + [SimpleNamespace(at=at1, kind="status", new="waiting_customer"),
                 SimpleNamespace(at=at2, kind="status", new=status_at(events, index))]
              + events[index + 1:])
    pfr, pres = clocks_of(cal, paused, now)
    assert pfr.elapsed <= fr.elapsed
    assert pres.elapsed <= res.elapsed
    assert pfr.elapsed >= timedelta(0) and pres.elapsed >= timedelta(0)


@settings(max_examples=100, deadline=None)
@given(calendars(), histories(), st.integers(0, 40000))
def test_measure_is_stable_and_states_are_consistent(cal, events, extra):
    now = events[-1].at + timedelta(minutes=extra)
    first = clocks_of(cal, events, now)
    fresh = BusinessCalendar(str(cal.zone), {str(k): v for k, v in cal.hours.items()},
                             cal.holidays)
    assert clocks_of(fresh, list(events), now) == first
    for m in first:
        assert m.state in ("ok", "warning", "breached", "met")
        if m.breached:
            assert m.due is not None and m.due <= now
