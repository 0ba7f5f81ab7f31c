"""Hypothesis strategies shared by the calendar property tests: random weekly hours on the
quarter-hour grid, and the case a test draws (a calendar, its reference, a start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from calendar_reference import RefCalendar
from hypothesis import strategies as st

from rulekit.calendars import Calendar
from rulekit.calendars.week import DAY_NAMES

QUARTERS_PER_DAY = 96


def hhmm(minutes: int) -> str:
    """``HH:MM`` of ``minutes`` after midnight (past 24:00, on the clock of the next day)."""
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


@dataclass
class Case:
    calendar: Calendar
    ref: RefCalendar
    start: datetime
    weekly_open: int  # minutes
    spec: dict[str, Any]


@st.composite
def weekly_hours(draw: st.DrawFn, max_intervals: int = 6, max_quarters: int = 95,
                 ) -> tuple[dict[str, list[str]], dict[int, list[tuple[int, int]]], int]:
    """Non-overlapping weekly hours on the quarter-hour grid (overnight ones too): as written
    in a calendar, as the reference wants them, and the minutes open a week."""
    n = draw(st.integers(1, max_intervals))
    week_quarters = 7 * QUARTERS_PER_DAY
    points = sorted(draw(st.sets(st.integers(0, week_quarters - 1), min_size=2 * n,
                                 max_size=2 * n)))
    if draw(st.booleans()):  # the last interval wraps past Sunday
        points = [*points[1:], points[0] + week_quarters]
    week: dict[int, list[tuple[int, int]]] = {}
    hours: dict[str, list[str]] = {}
    weekly_open = 0
    for a, b_raw in zip(points[0::2], points[1::2], strict=True):
        b = min(b_raw, a + max_quarters)
        day, first = divmod(a % week_quarters, QUARTERS_PER_DAY)
        s, e = first * 15, first * 15 + (b - a) * 15
        week.setdefault(day, []).append((s, e))
        end = "24:00" if e == 1440 else hhmm(e)
        hours.setdefault(DAY_NAMES[day], []).append(f"{hhmm(s)}-{end}")
        weekly_open += e - s
    return hours, week, weekly_open
