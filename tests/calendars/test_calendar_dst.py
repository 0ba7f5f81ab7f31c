"""DST matrix: rulekit's business arithmetic against the minute-stepping reference.

For each zone and each of its 2026 offset changes (found from zoneinfo), start instants every
15 minutes within ±48 h of the change, several business durations, on calendars whose hours
straddle the change.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from calendar_reference import RefCalendar, RefTimeline, transitions

from rulekit.calendars import build_calendar

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Europe/Dublin"]
DURATIONS = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=2), timedelta(hours=8),
             timedelta(hours=30)]
ALL = range(7)

# name -> (hours mapping, windows, weekly wall intervals for the reference, reference windows)
CALENDARS: dict[str, tuple[dict[str, Any], list[dict[str, str]], dict[int, list[tuple[int, int]]],
                           list[tuple[int, int]]]] = {
    "always": ({"daily": "00:00-24:00"}, [], {d: [(0, 1440)] for d in ALL}, []),
    "night-01-04": ({"daily": "01:00-04:00"}, [], {d: [(60, 240)] for d in ALL}, []),
    "office": ({"mon-fri": "09:00-17:00"}, [], {d: [(540, 1020)] for d in range(5)}, []),
    "overnight": ({"daily": "22:00-02:15"}, [], {d: [(1320, 1575)] for d in ALL}, []),
    "cron-0130": ({}, [{"cron": "30 1 * * *", "duration": "2h"}], {}, [(90, 210)]),
}


def _cases() -> list[tuple[str, int]]:
    return [(zone, i) for zone in ZONES for i in range(2)]


@pytest.mark.parametrize(("zone", "which"), _cases(),
                         ids=[f"{z}-{'first' if i == 0 else 'second'}" for z, i in _cases()])
@pytest.mark.parametrize("cal_name", sorted(CALENDARS))
def test_dst_matrix_matches_reference(zone: str, which: int, cal_name: str) -> None:
    tz = ZoneInfo(zone)
    found = transitions(tz, 2026)
    assert len(found) == 2, found
    change = found[which]
    hours, windows, ref_week, ref_windows = CALENDARS[cal_name]
    spec: dict[str, Any] = {"timezone": zone, "hours": hours}
    if windows:
        spec["windows"] = windows
    cal = build_calendar(cal_name, spec)
    ref = RefCalendar(tz, ref_week, windows=lambda d, w=ref_windows: w)

    first = change - timedelta(hours=48)
    starts = [first + k * timedelta(minutes=15) for k in range(4 * 96 + 1)]
    # enough horizon for 30 business hours after the last start on the sparsest calendar
    horizon = {"night-01-04": 14, "cron-0130": 20, "office": 9, "overnight": 10}.get(cal_name, 5)
    timeline = RefTimeline.build(ref, first - timedelta(days=1),
                                 change + timedelta(days=horizon))

    mismatches: list[str] = []
    for t in starts:
        if cal.is_open(t) != timeline.is_open(t):
            mismatches.append(f"is_open({t})")
        for d in DURATIONS:
            got = cal.add_business(t, d)
            want = timeline.add_business(t, d)
            if got != want:
                mismatches.append(f"add_business({t}, {d}) = {got}, reference {want}")
            if cal.business_between(t, want) != d:
                mismatches.append(f"business_between({t}, {want}) != {d}")
        for span in (timedelta(hours=3), timedelta(hours=26)):
            if cal.business_between(t, t + span) != timeline.business_between(t, t + span):
                mismatches.append(f"business_between({t}, +{span})")
        if cal.business_between(t - timedelta(hours=20), t) != \
                timeline.business_between(t - timedelta(hours=20), t):
            mismatches.append(f"business_between({t} - 20h, {t})")
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_transitions_are_found_from_zoneinfo() -> None:
    ny = transitions(ZoneInfo("America/New_York"), 2026)
    assert [t.date() for t in ny] == [date(2026, 3, 8), date(2026, 11, 1)]
    lord_howe = transitions(ZoneInfo("Australia/Lord_Howe"), 2026)
    offsets = [(t - timedelta(minutes=1)).astimezone(ZoneInfo("Australia/Lord_Howe")).utcoffset()
               for t in lord_howe]
    assert offsets == [timedelta(hours=11), timedelta(hours=10, minutes=30)]
    assert all(t.tzinfo is UTC for t in lord_howe)
