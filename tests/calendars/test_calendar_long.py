"""Property tests of long business durations: weeks of open time against the stepping
reference, and years of it against walking every open period.

``add_business`` skips stretches of regular weeks in one step; these tests give it random
weekly hours, holidays, exceptions and zones with daylight saving time (also 30-minute DST and
negative DST) so that stretches start and end around each of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from calendar_reference import RefCalendar, RefTimeline
from calendar_strategies import QUARTERS_PER_DAY, Case, hhmm, weekly_hours
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rulekit.calendars import build_calendar

STEP = timedelta(minutes=15)  # every boundary, start and duration is on this grid
US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=100, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

REFERENCE_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Europe/Dublin",
                   "UTC"]
REFERENCE_ANCHORS = [datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 3, 20, tzinfo=UTC),
                     datetime(2026, 9, 20, tzinfo=UTC), datetime(2026, 10, 12, tzinfo=UTC)]
REFERENCE_DAYS = 120
# zones whose offset changes near midnight, twice a year for a month (Casablanca), with
# negative DST (Dublin), in the southern hemisphere, or not at all any more (Tehran)
WALK_ZONES = ["America/New_York", "America/Havana", "America/Sao_Paulo", "Africa/Casablanca",
              "Europe/Dublin", "Australia/Sydney", "Asia/Tehran", "America/Santiago", "UTC"]
COUNTRIES = [None, ("US", "NC"), ("DE", "BY"), ("GB", None)]
# hours open when clocks change (around Sunday 00:00-03:00 in most of these zones)
NIGHT_HOURS: list[tuple[dict[str, list[str]], int]] = [
    ({"daily": ["01:00-03:00"]}, 7 * 120),
    ({"sun": ["00:30-02:45"]}, 135),
    ({"sat": ["23:00-03:00"], "wed": ["12:00-12:15"]}, 255),
    ({"daily": ["00:00-24:00"]}, 7 * 1440),
]


Exceptions = dict[date, list[tuple[int, int]]]


def random_hours(draw: st.DrawFn, first_day: date,
                 span: int) -> tuple[Exceptions, list[dict[str, str]]]:
    """Up to three exceptions within ``span`` days of ``first_day``: as the reference wants
    them, and as written in a calendar."""
    exceptions: Exceptions = {}
    written: list[dict[str, str]] = []
    for offset in sorted(draw(st.sets(st.integers(0, span), max_size=3))):
        day = first_day + timedelta(days=offset)
        if draw(st.booleans()):
            exceptions[day] = []
            written.append({"date": day.isoformat(), "hours": "closed"})
            continue
        s = draw(st.integers(0, 95)) * 15
        length = draw(st.integers(1, 40)) * 15
        exceptions[day] = [(s, s + length)]
        written.append({"date": day.isoformat(), "hours": f"{hhmm(s)}-{hhmm(s + length)}"})
    return exceptions, written


@st.composite
def reference_cases(draw: st.DrawFn) -> Case:
    zone = draw(st.sampled_from(REFERENCE_ZONES))
    hours, week, weekly_open = draw(weekly_hours())
    anchor = draw(st.sampled_from(REFERENCE_ANCHORS))
    start = anchor + draw(st.integers(0, 7 * QUARTERS_PER_DAY)) * STEP
    first_day = anchor.date()
    holidays = {first_day + timedelta(days=k)
                for k in draw(st.sets(st.integers(0, REFERENCE_DAYS), max_size=10))}
    exceptions, written = random_hours(draw, first_day, REFERENCE_DAYS)
    spec: dict[str, Any] = {"timezone": zone, "hours": hours,
                            "holidays": {"dates": [d.isoformat() for d in sorted(holidays)]}}
    if written:
        spec["exceptions"] = written
    ref = RefCalendar(ZoneInfo(zone), week, holidays, exceptions)
    return Case(build_calendar("long", spec), ref, start, weekly_open, spec)


@SETTINGS
@given(reference_cases(), st.data())
def test_weeks_of_business_time_match_the_reference(case: Case, data: st.DataObject) -> None:
    line = RefTimeline.build(case.ref, case.start - timedelta(days=2),
                             case.start + timedelta(days=REFERENCE_DAYS), STEP)
    weeks = data.draw(st.integers(2, 12))
    d = data.draw(st.integers(1, weeks * case.weekly_open // 15)) * STEP
    try:
        expected = line.add_business(case.start, d)
    except AssertionError:  # needs more than the reference covers
        assume(False)
        raise
    got = case.calendar.add_business(case.start, d)
    assert got == expected, case.spec
    assert case.calendar.is_open(got - US)
    assert case.calendar.business_between(case.start, got) == d


@st.composite
def walk_cases(draw: st.DrawFn) -> tuple[dict[str, Any], datetime, timedelta]:
    zone = draw(st.sampled_from(WALK_ZONES))
    if draw(st.booleans()):
        hours, _week, weekly_open = draw(weekly_hours(max_intervals=3, max_quarters=24))
    else:
        hours, weekly_open = draw(st.sampled_from(NIGHT_HOURS))
    # from 2026 to 2070: zones change by their explicit transitions, then by their rules
    start = datetime(2026, 1, 1, tzinfo=UTC) + draw(
        st.integers(0, 44 * 365 * 86_400 * 10**6)) * US
    first_day = start.date()
    spec: dict[str, Any] = {"timezone": zone, "hours": hours}
    holidays: dict[str, Any] = {}
    country = draw(st.sampled_from(COUNTRIES))
    if country is not None:
        holidays["country"] = country[0]
        if country[1] is not None:
            holidays["subdivision"] = country[1]
    dates = sorted({first_day + timedelta(days=k)
                    for k in draw(st.sets(st.integers(0, 3 * 365), max_size=12))})
    if dates:
        holidays["dates"] = [d.isoformat() for d in dates]
    if holidays:
        spec["holidays"] = holidays
    _exceptions, written = random_hours(draw, first_day, 3 * 365)
    if written:
        spec["exceptions"] = written
    weeks = draw(st.integers(3, 150))
    minutes = draw(st.integers(1, weeks * weekly_open))
    return spec, start, timedelta(minutes=minutes, microseconds=draw(st.integers(0, 10**6)))


@SETTINGS
@given(walk_cases())
def test_years_of_business_time_match_walking_every_period(
        case: tuple[dict[str, Any], datetime, timedelta]) -> None:
    spec, start, d = case
    cal = build_calendar("long", spec)
    got = cal.add_business(start, d)
    walker = build_calendar("long", spec)
    walked = walker._add(walker._us(start), d // US, skip=False)
    assert got == EPOCH + walked * US, spec
    assert cal.is_open(got - US)
