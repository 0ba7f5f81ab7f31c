"""Calendars at the edges: calendars that stop opening, instants at the ends of time, and
durations of a year of business time on a calendar open a minute a day."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rulekit.calendars import (
    END_INSTANT,
    FIRST_INSTANT,
    Calendar,
    add_duration,
    build_calendar,
)
from rulekit.config.project import check_paths
from rulekit.errors import CalendarError, RulekitError, SourceLocation

NY = ZoneInfo("America/New_York")
TODAY = date(2026, 12, 2)
YEAR = timedelta(hours=8784)  # the longest duration the DSL accepts: 366 days


def two_years_of_dates(first: date) -> list[str]:
    return [(first + timedelta(days=k)).isoformat() for k in range(731)]


RULES = """\
rulekit: 1
policy: after-hours
applies_to:
  sources: [remax.com]
calendars:
  open-once-in-2020:
    timezone: America/New_York
    exceptions:
      - {{date: "2020-12-05", hours: "10:00-14:00"}}
  leap-day:
    timezone: America/New_York
    windows:
      - {{cron: "0 9 29 2 *", duration: 8h}}
  shutdown:
    timezone: America/New_York
    hours: {{mon-fri: "09:00-17:00"}}
    holidays:
      dates: [{dates}]
  office-hours:
    timezone: America/New_York
    hours: {{mon-fri: "09:00-17:00"}}
    holidays: {{country: US, subdivision: NC}}
rules:
  - name: hold
    steps:
      - hold: {{until_open: open-once-in-2020}}
      - hold: {{until_open: leap-day}}
      - hold: {{until_open: shutdown}}
      - hold: {{until_open: office-hours}}
      - queue: {{name: manual, reason: morning review}}
"""

WORLD = """\
rulekit: 1
world: tiny
calendars:
  gone:
    timezone: UTC
    exceptions:
      - {date: "2020-12-05", hours: "10:00-14:00"}
agents:
  - {id: a1, name: A One, calendar: gone}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dates = ", ".join(two_years_of_dates(date(2027, 1, 1)))
    (tmp_path / "rules.yaml").write_text(RULES.format(dates=dates), encoding="utf-8")
    (tmp_path / "world.yaml").write_text(WORLD, encoding="utf-8")
    return tmp_path


# -- validation: a calendar that stops opening --------------------------------------------------
def test_validation_reports_calendars_that_stop_opening(folder: Path) -> None:
    result = check_paths([folder], horizon_from=TODAY)
    found = {(Path(d.location.path).name, d.location.line, d.location.column): d
             for d in result.diagnostics if d.location is not None}
    assert {d.code for d in result.diagnostics} == {"RK404"}
    assert sorted(found) == [("rules.yaml", 6, 3), ("rules.yaml", 10, 3),
                             ("rules.yaml", 14, 3), ("world.yaml", 4, 3)]
    messages = {d.field_path: d.message for d in result.diagnostics}
    assert messages["open-once-in-2020"] == \
        "calendar 'open-once-in-2020' has no open time in the next 366 days"
    assert messages["leap-day"] == "calendar 'leap-day' has no open time in the next 366 days"
    assert messages["shutdown"] == ("calendar 'shutdown' is closed for more than 366 days "
                                    "after 2026-12-31T17:00:00-05:00")
    assert messages["gone"] == "calendar 'gone' has no open time in the next 366 days"
    assert all(d.hint and "366 days" in d.hint for d in result.diagnostics)
    assert not result.ok


def test_the_horizon_moves_with_the_validation_date(folder: Path) -> None:
    # in January 2028 the leap day is near, but the next one after it is four years away;
    # the two-year shutdown ends within the year
    result = check_paths([folder], horizon_from=date(2028, 1, 10))
    messages = {d.field_path: d.message for d in result.diagnostics}
    assert set(messages) == {"open-once-in-2020", "leap-day", "gone"}
    assert messages["leap-day"] == ("calendar 'leap-day' is closed for more than 366 days "
                                    "after 2028-02-29T17:00:00-05:00")
    # in November 2020 the one open day is ahead, and nothing after it
    early = check_paths([folder], horizon_from=date(2020, 11, 1))
    assert {d.field_path for d in early.diagnostics} >= {"open-once-in-2020", "gone"}


def test_loading_rules_to_run_them_does_not_check_the_horizon(folder: Path) -> None:
    result = check_paths([folder])
    assert result.ok, result.diagnostics
    assert result.rulesets and result.worlds


def test_an_ordinary_calendar_passes_the_horizon(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(RULES.split("calendars:", maxsplit=1)[0] + """\
calendars:
  office-hours:
    timezone: America/New_York
    hours: {mon-fri: "09:00-17:00"}
    holidays: {country: US, subdivision: NC, dates: ["2026-12-24"]}
  always:
    timezone: Europe/Berlin
    hours: {daily: "00:00-24:00"}
rules:
  - name: hold
    steps:
      - hold: {until_open: office-hours}
      - hold: {until_open: always}
      - queue: {name: manual, reason: morning review}
""", encoding="utf-8")
    assert check_paths([tmp_path], horizon_from=TODAY).ok


# -- run time: errors, never crashes -----------------------------------------------------------
def office(**extra: Any) -> Calendar:
    return build_calendar("office", {"timezone": "America/New_York",
                                     "hours": {"mon-fri": "09:00-17:00"}, **extra},
                          location=SourceLocation("rules/office.yaml", 7, 3))


@pytest.mark.parametrize("instant", [
    datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 3, 12, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 12, tzinfo=ZoneInfo("Pacific/Kiritimati")),
])
def test_instants_at_the_ends_of_time_raise_a_calendar_error(instant: datetime) -> None:
    cal = office()
    calls = [
        lambda: cal.add_business(instant, timedelta(hours=2)),
        lambda: cal.next_open(instant),
        lambda: cal.next_close(instant),
        lambda: cal.is_open(instant),
        lambda: cal.business_between(instant, datetime(2026, 1, 1, tzinfo=UTC)),
        lambda: cal.open_periods(datetime(2026, 1, 1, tzinfo=UTC), instant),
        lambda: add_duration(instant, 7200, True, cal),
    ]
    for call in calls:
        with pytest.raises(CalendarError) as info:
            call()
        assert isinstance(info.value, RulekitError)
        assert info.value.code == "RK407"
        assert str(info.value).startswith("rules/office.yaml:7:3: calendar 'office': ")
        assert "outside the range" in str(info.value)


def test_plain_durations_past_the_ends_of_time_raise_a_calendar_error() -> None:
    with pytest.raises(CalendarError, match="outside the range"):
        add_duration(datetime(9998, 12, 31, 23, tzinfo=UTC), 2 * 3600, False, None)
    with pytest.raises(CalendarError, match="outside the range"):
        add_duration(datetime(1, 1, 1, tzinfo=UTC), 60, False, None)


def test_the_supported_range_itself_works() -> None:
    cal = office()
    first = datetime(2, 1, 4, 9, tzinfo=NY)  # a Wednesday
    assert first.astimezone(UTC) >= FIRST_INSTANT
    assert cal.local(cal.add_business(first, timedelta(hours=2))) == datetime(2, 1, 4, 11,
                                                                              tzinfo=NY)
    late = datetime(9998, 12, 1, 12, tzinfo=UTC)
    assert cal.add_business(late, timedelta(hours=8)) < END_INSTANT
    with pytest.raises(CalendarError) as info:  # runs past the end of the range
        cal.add_business(datetime(9998, 12, 20, tzinfo=UTC), timedelta(hours=8784))
    assert info.value.code == "RK407" and "9999-01-01" in str(info.value)
    with pytest.raises(CalendarError):  # the search for open time runs past it too
        build_calendar("sat", {"timezone": "UTC", "exceptions": [
            {"date": "9998-06-06", "hours": "09:00-10:00"}]}).next_open(
                datetime(9998, 7, 1, tzinfo=UTC))


def test_calendars_that_stop_opening_raise_fast_at_run_time() -> None:
    leap = build_calendar("leap-day", {"timezone": "UTC", "windows": [
        {"cron": "0 9 29 2 *", "duration": "8h"}]}, location=SourceLocation("r.yaml", 3, 3))
    gone = build_calendar("gone", {"timezone": "UTC", "exceptions": [
        {"date": "2020-12-05", "hours": "10:00-14:00"}]})
    shutdown = build_calendar("shutdown", {
        "timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"},
        "holidays": {"dates": two_years_of_dates(date(2027, 1, 1))}})
    t = datetime(2026, 12, 2, 12, tzinfo=UTC)
    for cal, d in [(leap, timedelta(hours=2)), (gone, timedelta(hours=2)),
                   (shutdown, timedelta(hours=200)), (shutdown, YEAR)]:
        started = time.perf_counter()
        with pytest.raises(CalendarError) as info:
            cal.add_business(t, d)
        assert time.perf_counter() - started < 2
        assert info.value.code == "RK404"
        assert "no open time in the 366 days after" in str(info.value)
    with pytest.raises(CalendarError) as info:
        leap.next_open(t)
    assert str(info.value).startswith("r.yaml:3:3: calendar 'leap-day' has no open time")


# -- long durations ---------------------------------------------------------------------------
def minute_a_day(**extra: Any) -> Calendar:
    return build_calendar("minute", {"timezone": "America/New_York",
                                     "hours": {"daily": "09:00-09:01"}, **extra})


def timed(cal: Calendar, t: datetime, d: timedelta) -> tuple[datetime, float]:
    started = time.perf_counter()
    result = cal.add_business(t, d)
    return result, time.perf_counter() - started


def test_a_year_of_business_time_a_minute_a_day_is_fast_and_exact() -> None:
    t = datetime(2026, 1, 1, tzinfo=NY)
    result, seconds = timed(minute_a_day(), t, YEAR)
    # 527,040 open minutes, one a day: the last one is 09:00-09:01 on the 527,040th day
    assert minute_a_day().local(result) == datetime.combine(
        date(2026, 1, 1) + timedelta(days=527_039), datetime.min.time(), NY).replace(
            hour=9, minute=1)
    assert seconds < 0.5, seconds


def test_a_year_of_business_time_with_public_holidays_is_fast() -> None:
    cal = minute_a_day(holidays={"country": "US", "subdivision": "NC"})
    t = datetime(2026, 1, 1, tzinfo=NY)
    result, seconds = timed(cal, t, YEAR)
    assert seconds < 0.5, seconds
    # every holiday of the package (it has them up to 2100) pushes the result one day on
    holidays = sum(1 for k in range(75 * 366)
                   if cal.is_holiday(date(2026, 1, 1) + timedelta(days=k))
                   and date(2026, 1, 1) + timedelta(days=k) < date(2101, 1, 1))
    expected = date(2026, 1, 1) + timedelta(days=527_039 + holidays)
    assert cal.local(result).date() == expected
    assert cal.is_open(result - timedelta(microseconds=1))


def test_past_the_supported_range_fails_fast() -> None:
    monday = build_calendar("monday", {"timezone": "America/New_York",
                                       "hours": {"mon": "09:00-09:01"}})
    started = time.perf_counter()
    with pytest.raises(CalendarError) as info:  # 527,040 Mondays: about 10,000 years
        monday.add_business(datetime(2026, 1, 1, tzinfo=UTC), YEAR)
    assert time.perf_counter() - started < 0.5
    assert info.value.code == "RK407"


def test_long_durations_agree_with_walking_every_period() -> None:
    """The same result with and without skipping, on calendars chosen to make it hard: DST
    inside open time, overnight hours, holidays, exceptions, a 30-minute DST zone."""
    specs: list[dict[str, Any]] = [
        {"timezone": "America/New_York", "hours": {"daily": "01:30-02:30"}},
        {"timezone": "Europe/Berlin", "hours": {"fri": "22:00-06:00", "mon": "09:00-09:15"},
         "holidays": {"country": "DE", "subdivision": "BY"}},
        {"timezone": "Australia/Lord_Howe", "hours": {"daily": "01:45-02:45"},
         "exceptions": [{"date": "2027-03-01", "hours": "00:00-24:00"},
                        {"date": "2027-03-02", "hours": "closed"}]},
        {"timezone": "America/Sao_Paulo", "hours": {"sun": "23:00-01:00"},
         "holidays": {"dates": two_years_of_dates(date(2030, 1, 1))[:300]}},
    ]
    for spec in specs:
        cal = build_calendar("hard", spec)
        walker = build_calendar("hard", spec)
        for start in (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 10, 30, 1, 7, tzinfo=UTC),
                      datetime(2041, 3, 1, tzinfo=UTC)):  # the zones' rules, past 2037
            for hours in (50, 400, 2000):
                d = timedelta(hours=hours, minutes=7)
                got = cal.add_business(start, d)
                walked = walker._add(walker._us(start), d // timedelta(microseconds=1),
                                     skip=False)
                assert got == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=walked), \
                    (spec, start, hours)


def test_the_last_days_of_the_range_answer_or_raise_a_calendar_error() -> None:
    cal = build_calendar("windows", {"timezone": "Pacific/Kiritimati", "windows": [
        {"cron": "0 9 29 2 *", "duration": "1h"}, {"cron": "0 8 * * *", "duration": "1h"}]})
    open_at = datetime(9998, 12, 30, 18, tzinfo=UTC)  # 08:00 in Kiritimati (UTC+14)
    assert cal.next_open(datetime(9998, 12, 30, tzinfo=UTC)) == open_at
    assert cal.next_close(open_at) == open_at + timedelta(hours=1)
    assert cal.add_business(open_at, timedelta(minutes=30)) == open_at + timedelta(minutes=30)
    last = datetime(9998, 12, 31, 23, 59, tzinfo=UTC)
    assert not cal.is_open(last)
    for call in (lambda: cal.next_open(last), lambda: cal.next_close(last),
                 lambda: cal.add_business(last, timedelta(minutes=30))):
        with pytest.raises(CalendarError, match="9999-01-01"):
            call()


def test_calendars_still_pickle_after_long_durations() -> None:
    import pickle

    cal = minute_a_day(holidays={"country": "US"})
    result = cal.add_business(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=500))
    copy = pickle.loads(pickle.dumps(cal))
    assert copy == cal
    assert copy.add_business(datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=500)) == result


def test_open_exceptions_before_the_first_stretch_count_towards_the_range() -> None:
    """Exceptions close together are walked through; their open time must not be forgotten
    when deciding whether the duration can end before the range does."""
    exceptions = {date(2026, 1, 1) + timedelta(days=2 * k) for k in range(300)}
    cal = build_calendar("busy-then-quiet", {
        "timezone": "UTC", "hours": {"mon": "09:00-09:01"},
        "exceptions": [{"date": d.isoformat(), "hours": "00:00-24:00"} for d in exceptions]})
    started = time.perf_counter()
    result = cal.add_business(datetime(2026, 1, 1, tzinfo=UTC), YEAR)
    assert time.perf_counter() - started < 1
    left, day = YEAR // timedelta(minutes=1), date(2026, 1, 1)
    while True:  # one date at a time: 24 hours on an exception, a minute on other Mondays
        here = 1440 if day in exceptions else 1 if day.weekday() == 0 else 0
        if 0 < left <= here:
            start = 0 if day in exceptions else 9 * 60
            expected = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                minutes=start + left)
            break
        left -= here
        day += timedelta(days=1)
    assert result == expected
