"""Property tests on random calendars, against the stepping reference."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calendar_reference import RefCalendar, RefTimeline
from calendar_strategies import Case, hhmm, weekly_hours
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulekit.calendars import build_calendar

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Europe/Dublin", "UTC"]
ANCHORS = [datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 25, tzinfo=UTC),
           datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC)]
STEP = timedelta(minutes=5)  # every boundary, start and duration below is on this grid
US = timedelta(microseconds=1)

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(ZONES))
    hours, week, weekly_open = draw(weekly_hours(max_intervals=7))  # each shorter than a day
    anchor = draw(st.sampled_from(ANCHORS))
    start = anchor + draw(st.integers(0, 14 * 288)) * STEP
    first_day = anchor.date()
    holidays = sorted(draw(st.sets(st.integers(0, 30), max_size=2)))
    holiday_dates = {first_day + timedelta(days=k) for k in holidays}
    exceptions: dict[date, list[tuple[int, int]]] = {}
    spec: dict[str, Any] = {"timezone": zone, "hours": hours,
                            "holidays": {"dates": [d.isoformat() for d in sorted(holiday_dates)]}}
    if draw(st.booleans()):
        day = first_day + timedelta(days=draw(st.integers(0, 30)))
        s = draw(st.integers(0, 95)) * 15
        length = draw(st.integers(1, 40)) * 15
        exceptions[day] = [(s, s + length)]
        spec["exceptions"] = [{"date": day.isoformat(),
                               "hours": f"{hhmm(s)}-{hhmm((s + length) % 1440)}"}]
    calendar = build_calendar("random", spec)
    ref = RefCalendar(ZoneInfo(zone), week, holiday_dates, exceptions)
    return Case(calendar, ref, start, weekly_open, spec)


def timeline(case: Case, needed_days: int = 9) -> RefTimeline:
    return RefTimeline.build(case.ref, case.start - timedelta(days=2),
                             case.start + timedelta(days=needed_days), STEP)


def reference_add(case: Case, line: RefTimeline, t: datetime, d: timedelta) -> datetime:
    try:
        return line.add_business(t, d)
    except AssertionError:  # sparse calendar: look further ahead
        return timeline(case, 40).add_business(t, d)


@SETTINGS
@given(cases(), st.data())
def test_add_business_matches_reference(case: Case, data: st.DataObject) -> None:
    line = timeline(case)
    cal, t = case.calendar, case.start
    cap = min(case.weekly_open, 10 * 60) // 5
    d = data.draw(st.integers(1, cap)) * STEP
    got = cal.add_business(t, d)
    assert got == reference_add(case, line, t, d), case.spec
    assert got >= t
    assert cal.is_open(got - US)  # lands on open time: the instant just before is open
    assert cal.business_between(t, got) == d
    assert cal.add_business(t, timedelta(0)) == t


@SETTINGS
@given(cases(), st.data())
def test_is_open_and_business_between_match_reference(case: Case, data: st.DataObject) -> None:
    line = timeline(case)
    cal, t = case.calendar, case.start
    for k in data.draw(st.lists(st.integers(-288, 6 * 288), min_size=1, max_size=8)):
        u = t + k * STEP
        assert cal.is_open(u) == line.is_open(u), (u, case.spec)
        assert cal.business_between(t, u) == line.business_between(t, u), (u, case.spec)
        assert cal.business_between(u, t) == -cal.business_between(t, u)


@SETTINGS
@given(cases(), st.data())
def test_add_business_is_monotonic(case: Case, data: st.DataObject) -> None:
    cal, t = case.calendar, case.start
    cap = min(case.weekly_open, 10 * 60) * 60
    d1, d2 = sorted(data.draw(st.lists(st.integers(0, cap), min_size=2, max_size=2)))
    dt1, dt2 = sorted(data.draw(st.lists(st.integers(0, 3 * 86_400 * 10**6),
                                         min_size=2, max_size=2)))
    t1, t2 = t + dt1 * US, t + dt2 * US  # off-grid instants, to the microsecond
    a = cal.add_business(t1, timedelta(seconds=d1))
    assert a >= t1
    assert cal.add_business(t1, timedelta(seconds=d2)) >= a  # monotonic in d
    assert cal.add_business(t2, timedelta(seconds=d1)) >= a  # monotonic in t
    assert cal.business_between(t1, a) == timedelta(seconds=d1)
    if d1 > 0:
        assert cal.is_open(a - US)
    nxt = cal.next_open(t1)
    assert cal.is_open(nxt) and nxt >= t1
    assert cal.business_between(t1, nxt) == timedelta(0)
    close = cal.next_close(t1)
    assert close > nxt and not cal.is_open(close) and cal.is_open(close - US)


@SETTINGS
@given(cases(), st.data())
def test_queries_in_a_row_match_reference(case: Case, data: st.DataObject) -> None:
    """One calendar answering many queries (it remembers the open period it found last, and
    answers from it when a query falls inside) gives the reference's answers every time."""
    line = timeline(case)
    cal = case.calendar
    t = cal.next_open(case.start)  # on the grid: periods start on it
    assert line.is_open(t)
    cap = min(case.weekly_open, 10 * 60) // 5
    # instants a few hours apart, durations that often run past the end of the period
    queries = data.draw(st.lists(st.tuples(st.integers(0, 48), st.integers(1, min(cap, 48))),
                                 min_size=2, max_size=16))
    for k, steps in queries:
        u, d = t + k * STEP, steps * STEP
        assert cal.is_open(u) == line.is_open(u), (u, case.spec)
        assert cal.add_business(u, d) == reference_add(case, line, u, d), (u, d, case.spec)
