"""Fixed examples of business-time arithmetic (the behaviour documented in docs/calendars.md)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rulekit.calendars import (
    MAX_CLOSED_DAYS,
    Calendar,
    CalendarSet,
    UnknownCalendarError,
    add_duration,
    build_calendar,
    build_calendars,
    on_duty,
)
from rulekit.errors import CalendarError

NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)  # type: ignore[misc]


def cal(hours: dict[str, Any] | None = None, **extra: Any) -> Calendar:
    spec: dict[str, Any] = {"timezone": "America/New_York",
                            "hours": hours if hours is not None else {"mon-fri": "09:00-17:00"}}
    spec.update(extra)
    return build_calendar("test", spec)


OFFICE = cal()
LUNCH = cal({"mon-fri": ["08:00-12:00", "13:00-18:00"]})
OVERNIGHT = cal({"fri": "22:00-06:00"})

# (calendar, start, business duration, expected end) -- 2026-11-20 is a Friday
ADD_CASES = [
    ("fri 16:00 + 2h", OFFICE, ny(2026, 11, 20, 16), 2 * H, ny(2026, 11, 23, 10)),
    ("monday holiday", cal(holidays={"dates": ["2026-11-23"]}), ny(2026, 11, 20, 16), 2 * H,
     ny(2026, 11, 24, 10)),
    ("sat 12:00 + 1h", OFFICE, ny(2026, 11, 21, 12), H, ny(2026, 11, 23, 10)),
    ("08:00 + 30m", OFFICE, ny(2026, 11, 23, 8), 30 * M, ny(2026, 11, 23, 9, 30)),
    ("ends at close", OFFICE, ny(2026, 11, 20, 15), 2 * H, ny(2026, 11, 20, 17)),
    ("starts at close", OFFICE, ny(2026, 11, 20, 17), H, ny(2026, 11, 23, 10)),
    ("lunch break", LUNCH, ny(2026, 11, 23, 11, 30), H, ny(2026, 11, 23, 13, 30)),
    ("lunch: to noon", LUNCH, ny(2026, 11, 23, 11), H, ny(2026, 11, 23, 12)),
    ("lunch: from noon", LUNCH, ny(2026, 11, 23, 12), H, ny(2026, 11, 23, 14)),
    ("overnight", OVERNIGHT, ny(2026, 11, 20, 23), 3 * H, ny(2026, 11, 21, 2)),
    ("overnight to next week", OVERNIGHT, ny(2026, 11, 21, 5), 2 * H, ny(2026, 11, 27, 23)),
    ("exception open saturday",
     cal(exceptions=[{"date": "2026-12-05", "hours": "10:00-14:00"}]),
     ny(2026, 12, 4, 16, 30), H, ny(2026, 12, 5, 10, 30)),
    ("explicit holiday", cal(holidays={"dates": ["2026-12-24"]}), ny(2026, 12, 23, 16), 2 * H,
     ny(2026, 12, 25, 10)),
    ("US/NC thanksgiving", cal(holidays={"country": "US", "subdivision": "NC"}),
     ny(2026, 11, 25, 16), 2 * H, ny(2026, 11, 30, 10)),
    ("US thanksgiving", cal(holidays={"country": "US"}), ny(2026, 11, 25, 16), 2 * H,
     ny(2026, 11, 27, 10)),
    ("cron window", cal({"mon-fri": "12:00-17:00"},
                        windows=[{"cron": "0 8 * * mon-fri", "duration": "2h"}]),
     ny(2026, 11, 23, 7), H, ny(2026, 11, 23, 9)),
    ("cron window then hours", cal({"mon-fri": "12:00-17:00"},
                                   windows=[{"cron": "0 8 * * mon-fri", "duration": "1h30m"}]),
     ny(2026, 11, 23, 9), H, ny(2026, 11, 23, 12, 30)),
    ("zero", OFFICE, ny(2026, 11, 21, 12), timedelta(0), ny(2026, 11, 21, 12)),
    ("across spring forward", cal({"daily": "00:00-24:00"}), ny(2026, 3, 8, 1), 2 * H,
     ny(2026, 3, 8, 4)),
]


@pytest.mark.parametrize(("calendar", "start", "d", "want"), [c[1:] for c in ADD_CASES],
                         ids=[c[0] for c in ADD_CASES])
def test_add_business(calendar: Calendar, start: datetime, d: timedelta, want: datetime) -> None:
    got = calendar.add_business(start, d)
    assert got == want, f"{calendar.local(got)} != {want}"
    assert got.tzinfo is UTC
    assert calendar.business_between(start, got) == d


def test_is_open_half_open_intervals() -> None:
    assert OFFICE.is_open(ny(2026, 11, 23, 9))
    assert OFFICE.is_open(ny(2026, 11, 23, 16, 59, 59))
    assert not OFFICE.is_open(ny(2026, 11, 23, 17))
    assert not OFFICE.is_open(ny(2026, 11, 23, 8, 59, 59))
    assert not OFFICE.is_open(ny(2026, 11, 21, 12))


def test_next_open_and_next_close() -> None:
    assert OFFICE.next_open(ny(2026, 11, 23, 10)) == ny(2026, 11, 23, 10)
    assert OFFICE.next_open(ny(2026, 11, 20, 17)) == ny(2026, 11, 23, 9)
    assert OFFICE.next_close(ny(2026, 11, 23, 10)) == ny(2026, 11, 23, 17)
    assert OFFICE.next_close(ny(2026, 11, 21, 12)) == ny(2026, 11, 23, 17)  # closed: next period
    assert LUNCH.next_close(ny(2026, 11, 23, 12, 30)) == ny(2026, 11, 23, 18)
    joined = cal({"mon": "18:00-24:00", "tue": "00:00-02:00"})
    assert joined.next_close(ny(2026, 11, 23, 19)) == ny(2026, 11, 24, 2)


def test_business_between() -> None:
    assert OFFICE.business_between(ny(2026, 11, 20, 16), ny(2026, 11, 23, 10)) == 2 * H
    assert OFFICE.business_between(ny(2026, 11, 23, 0), ny(2026, 11, 30, 0)) == 40 * H
    assert OFFICE.business_between(ny(2026, 11, 23, 10), ny(2026, 11, 20, 16)) == -2 * H
    assert OFFICE.business_between(ny(2026, 11, 23, 10), ny(2026, 11, 23, 10)) == timedelta(0)
    assert LUNCH.business_between(ny(2026, 11, 23, 0), ny(2026, 11, 24, 0)) == 9 * H


def test_overnight_spill_belongs_to_start_day_and_holidays() -> None:
    assert OVERNIGHT.is_open(ny(2026, 11, 21, 5, 59))
    assert not OVERNIGHT.is_open(ny(2026, 11, 21, 6))
    sat_holiday = cal({"fri": "22:00-06:00"}, holidays={"dates": ["2026-11-21"]})
    assert sat_holiday.is_open(ny(2026, 11, 21, 2))  # Friday's interval, Saturday's date
    fri_holiday = cal({"fri": "22:00-06:00"}, holidays={"dates": ["2026-11-20"]})
    assert not fri_holiday.is_open(ny(2026, 11, 20, 23))
    assert not fri_holiday.is_open(ny(2026, 11, 21, 2))


def test_exception_beats_holiday_and_closes_days() -> None:
    c = cal(holidays={"dates": ["2026-12-24"]},
            exceptions=[{"date": "2026-12-24", "hours": "09:00-12:00"},
                        {"date": "2026-12-31", "hours": "closed"}])
    assert c.is_holiday(date(2026, 12, 24))
    assert c.is_open(ny(2026, 12, 24, 11))
    assert not c.is_open(ny(2026, 12, 24, 13))
    assert not c.is_open(ny(2026, 12, 31, 10))


def test_country_holidays() -> None:
    c = cal(holidays={"country": "US", "subdivision": "NC"})
    assert c.is_holiday(date(2026, 11, 26))
    assert c.is_holiday(date(2026, 11, 27))  # NC: day after Thanksgiving
    assert not c.is_holiday(date(2026, 11, 24))
    assert not c.is_open(ny(2026, 11, 26, 10))


def test_dst_days_in_wall_time() -> None:
    night = cal({"daily": "01:00-04:00"})
    assert night.business_between(ny(2026, 3, 8), ny(2026, 3, 9)) == 2 * H  # spring forward
    assert night.business_between(ny(2026, 11, 1), ny(2026, 11, 2)) == 4 * H  # fall back
    gap = cal({"daily": "02:00-03:00"})
    assert gap.business_between(ny(2026, 3, 8), ny(2026, 3, 9)) == timedelta(0)
    assert gap.business_between(ny(2026, 3, 9), ny(2026, 3, 10)) == H


def test_plain_duration_is_absolute_across_dst() -> None:
    start = ny(2026, 3, 7, 12)
    end = add_duration(start, 86_400, business=False, calendar=None)
    assert end == ny(2026, 3, 8, 13)  # 24 h elapsed: the wall clock moved 25 h
    assert end - start == timedelta(hours=24)
    assert add_duration(ny(2026, 11, 20, 16), 7200, business=True, calendar=OFFICE) == \
        ny(2026, 11, 23, 10)
    with pytest.raises(ValueError, match="needs a calendar"):
        add_duration(start, 60, business=True, calendar=None)


def test_naive_and_negative_inputs() -> None:
    naive = datetime(2026, 11, 23, 10)
    for call in (lambda: OFFICE.is_open(naive), lambda: OFFICE.next_open(naive),
                 lambda: OFFICE.next_close(naive), lambda: OFFICE.add_business(naive, H),
                 lambda: OFFICE.business_between(naive, naive), lambda: OFFICE.local(naive),
                 lambda: on_duty(None, naive)):
        with pytest.raises(ValueError, match="no time zone"):
            call()
    with pytest.raises(ValueError, match="negative"):
        OFFICE.add_business(ny(2026, 11, 23, 10), -H)


def test_searches_are_bounded() -> None:
    past_only = cal({}, exceptions=[{"date": "2020-01-06", "hours": "09:00-17:00"}])
    with pytest.raises(CalendarError) as info:
        past_only.next_open(ny(2026, 1, 1))
    assert info.value.code == "RK404" and str(MAX_CLOSED_DAYS) in str(info.value)
    with pytest.raises(CalendarError):
        past_only.add_business(ny(2026, 1, 1), H)
    assert past_only.business_between(ny(2019, 1, 1), ny(2027, 1, 1)) == 8 * H
    always = cal({"daily": "00:00-24:00"})
    with pytest.raises(CalendarError, match="does not close"):
        always.next_close(ny(2026, 1, 1))
    assert always.add_business(ny(2026, 1, 1), timedelta(days=400)) == \
        ny(2026, 1, 1) + timedelta(days=400)


def test_local_and_identity() -> None:
    t = datetime(2026, 11, 23, 15, tzinfo=UTC)
    assert OFFICE.local(t) == ny(2026, 11, 23, 10)
    assert OFFICE.local(t).tzinfo == NY
    again = cal()
    assert again == OFFICE and hash(again) == hash(OFFICE)
    assert again != LUNCH
    assert len({OFFICE, again, LUNCH}) == 2
    assert OFFICE.tz == NY and OFFICE.name == "test"
    with pytest.raises(AttributeError):
        OFFICE.name = "x"  # type: ignore[misc]


def test_calendar_set_and_on_duty() -> None:
    calendars = build_calendars({
        "office-hours": {"timezone": "America/New_York", "hours": {"mon-fri": "09:00-17:00"}},
        "evenings": {"timezone": "America/New_York", "hours": {"daily": "17:00-22:00"}},
    })
    assert isinstance(calendars, CalendarSet)
    assert sorted(calendars) == ["evenings", "office-hours"]
    assert on_duty(calendars["evenings"], ny(2026, 11, 21, 18))
    assert not on_duty(calendars["office-hours"], ny(2026, 11, 21, 18))
    assert on_duty(None, ny(2026, 11, 21, 18))
    with pytest.raises(UnknownCalendarError) as info:
        calendars["evening"]
    assert info.value.code == "RK302"
    assert info.value.hint == "did you mean 'evenings'?"
    assert isinstance(info.value, KeyError)
    assert calendars.get("nope") is None
    assert "evenings" in calendars and "nope" not in calendars


def test_two_business_hours_is_fast() -> None:
    t = ny(2026, 11, 20, 16)
    OFFICE.add_business(t, 2 * H)
    n = 2000
    began = time.perf_counter()
    for _ in range(n):
        OFFICE.add_business(t, 2 * H)
    per_call = (time.perf_counter() - began) / n
    assert per_call < 500e-6, f"{per_call * 1e6:.1f} µs per add_business"
