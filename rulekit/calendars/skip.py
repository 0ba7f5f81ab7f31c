"""Long business durations: skipping stretches of weeks whose open time is known in advance.

A calendar without cron windows repeats its weekly hours.  Away from exception dates, and away
from UTC offset changes that fall in or next to open time, the open time between two local
wall-clock positions is the wall-clock measure of the weekly pattern between them, minus the
hours of the holidays in between: no date needs to be expanded.  :class:`Skipper` measures
such a *stretch* in one go; :meth:`rulekit.calendars.business.Calendar.add_business` walks the
open periods only around the irregular dates and offset changes, so a year of business time on
a calendar open one minute a day costs a handful of stretches, not 527,040 periods.

Positions here are *wall minutes*: minutes of local wall-clock time since 0001-01-01 00:00
(a Monday), so that ``position % WEEK`` is the minute of the week.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rulekit.calendars.transitions import ZoneChanges
from rulekit.calendars.zone import MINUTE_US, US

DAY = 1440
WEEK = 7 * DAY
#: where holidays are dense enough to close a calendar for a year, a stretch covers at most
#: this many days (less than the 366-day search limit, so that no closed time longer than the
#: limit can hide inside one)
STRETCH_DAYS = 350
#: the unix epoch in wall minutes
_EPOCH = (dt.date(1970, 1, 1).toordinal() - 1) * DAY

Interval = tuple[int, int]


def wall_minute(day: dt.date) -> int:
    """The wall-minute position of local midnight at the start of ``day``."""
    return (day.toordinal() - 1) * DAY


def wall_day(position: int) -> dt.date:
    """The local date a wall-minute position falls on."""
    return dt.date.fromordinal(position // DAY + 1)


@dataclass(frozen=True, slots=True)
class Stretch:
    """What one stretch measured: it ends at instant ``end_us`` (µs), and holds ``consumed``
    µs of open time from its start."""

    end_us: int
    consumed: int
    #: the first open instant and the end of the last open time in the stretch (µs), if any
    first_open: int | None
    last_open: int | None
    #: the first date a further stretch may start on; ``None`` when the duration ends within
    #: about a week of ``end_us`` and walking finishes it
    resume: dt.date | None


class WeekPattern:
    """The weekly hours as disjoint pieces of the week, with prefix sums of open minutes."""

    __slots__ = ("_ends", "_prefix", "_starts", "days", "total")

    def __init__(self, week: Sequence[Sequence[Interval]]) -> None:
        pieces: list[Interval] = []
        for day, intervals in enumerate(week):
            for s, e in intervals:
                a, b = day * DAY + s, day * DAY + e
                if b <= WEEK:
                    pieces.append((a, b))
                else:
                    pieces.extend([(a, WEEK), (0, b - WEEK)])
        pieces.sort()
        for (_, e1), (s2, _) in itertools.pairwise(pieces):
            if s2 < e1:
                raise ValueError("weekly hours overlap")
        self._starts = [s for s, _ in pieces]
        self._ends = [e for _, e in pieces]
        prefix = [0]
        for s, e in pieces:
            prefix.append(prefix[-1] + e - s)
        self._prefix = prefix
        #: open minutes per week
        self.total = prefix[-1]
        self.days: tuple[tuple[Interval, ...], ...] = tuple(tuple(d) for d in week)

    def measure(self, position: int) -> int:
        """Open wall minutes of the pattern in ``[0, position)``."""
        weeks, minute = divmod(position, WEEK)
        i = bisect.bisect_right(self._starts, minute) - 1
        inside = 0 if i < 0 else min(minute, self._ends[i]) - self._starts[i]
        return weeks * self.total + (self._prefix[i] if i >= 0 else 0) + inside

    def between(self, a: int, b: int) -> int:
        """Open wall minutes of the pattern in ``[a, b)``."""
        return self.measure(b) - self.measure(a)


class Skipper:
    """Measures stretches of one calendar (see the module docstring)."""

    def __init__(
        self,
        pattern: WeekPattern,
        changes: ZoneChanges,
        *,
        lookback: int,
        exceptions: Sequence[tuple[dt.date, Sequence[Interval]]],
        is_holiday: Callable[[dt.date], bool],
        holidays_between: Callable[[dt.date, dt.date], list[dt.date]],
        to_us: Callable[[dt.date, int], int],
        last_day: dt.date,
    ) -> None:
        self.pattern = pattern
        self.changes = changes
        self.lookback = lookback
        self._exception_days = sorted(day for day, _ in exceptions)
        self._exception_minutes = [sum(e - s for s, e in hours) for _, hours in
                                   sorted(exceptions)]
        self._is_holiday = is_holiday
        self._holidays_between = holidays_between
        self._to_us = to_us
        self.last_day = last_day
        windows = changes.weekly_windows()
        #: whether the zone's rule changes its offset only in closed time, every year
        self._rule_harmless = windows is not None and all(
            pattern.between(int(lo) - 1, int(hi) + 2) == 0 for lo, hi in windows)
        # a closure of a year needs about 50 holidays on each weekday that has hours
        self._dense = 50 * sum(1 for hours in pattern.days if hours)

    # -- where a stretch may start --------------------------------------------------------
    def next_start(self, day: dt.date) -> dt.date:
        """The first date from ``day`` on that no exception date reaches (an exception's
        intervals, and the spill-over of its date, differ from the weekly hours)."""
        days = self._exception_days
        while True:
            i = bisect.bisect_right(days, day) - 1
            if i < 0 or (day - days[i]).days > self.lookback:
                return day
            day = days[i] + dt.timedelta(days=self.lookback + 1)

    def upper_bound(self, start: dt.date, end_us: int, start_us: int) -> int:
        """At least the open time (µs) from instant ``start_us`` (on local date ``start``) to
        ``end_us``."""
        minutes = self.pattern.between(wall_minute(start), wall_minute(self.last_day)) \
            + 28 * DAY
        i = bisect.bisect_left(self._exception_days, start - dt.timedelta(days=self.lookback))
        minutes += sum(self._exception_minutes[i:])
        since = start_us - 2 * 86_400 * US
        if self._rule_harmless:
            shifts = self.changes.count_between(since, min(end_us, self.changes.rule_from)) + 1
        else:
            shifts = self.changes.count_between(since, end_us)
        return minutes * MINUTE_US + shifts * self.changes.max_shift

    # -- one stretch ------------------------------------------------------------------------
    def _limit(self, start: dt.date, a: int, a_us: int) -> tuple[int, dt.date | None]:
        """Where a stretch from ``start`` must end (a wall position), and the first date a
        stretch may start on after that blocker (``None`` for the end of the range)."""
        limit = wall_minute(self.last_day)
        resume: dt.date | None = None
        i = bisect.bisect_left(self._exception_days, start)
        if i < len(self._exception_days) and wall_minute(self._exception_days[i]) < limit:
            limit = wall_minute(self._exception_days[i])
            resume = self.next_start(self._exception_days[i])
        for change in self.changes.changes_after(a_us - 2 * 86_400 * US):
            low = change.at + min(change.before, change.after)
            high = change.at + max(change.before, change.after)
            lo = low // MINUTE_US + _EPOCH - 1
            hi = -(-high // MINUTE_US) + _EPOCH + 1
            if lo > limit + 2 * DAY or (self._rule_harmless
                                        and change.at > self.changes.rule_from):
                break
            if hi < a or lo >= limit or self.pattern.between(lo, hi) == 0:
                continue  # outside the stretch, or in closed time: lengths do not change
            limit = max(lo, a)  # the change makes an interval shorter or longer: walk it
            resume = self.next_start(wall_day(hi) + dt.timedelta(days=1))
            break
        return limit, resume

    def stretch(self, start: dt.date, left: int, a_us: int) -> Stretch:
        """Measure open time from the start of local date ``start`` (instant ``a_us``), for a
        duration of which ``left`` µs remain; the stretch ends before ``left`` is used up."""
        pattern = self.pattern
        a = wall_minute(start)
        if start >= self.last_day:
            return Stretch(a_us, 0, None, None, None)
        limit, resume = self._limit(start, a, a_us)
        week_of = pattern.days
        # holiday intervals that reach into [a, limit), as (start, end) wall positions
        removed: list[Interval] = []
        first_day = start - dt.timedelta(days=self.lookback)
        holidays = self._holidays_between(first_day, wall_day(limit)) if limit > a else []
        dense = self._dense_from(holidays)
        if dense is not None:
            capped = max(wall_minute(dense), a + STRETCH_DAYS * DAY)
            if capped < limit:
                limit, resume = capped, wall_day(capped)
        for day in holidays:
            base = wall_minute(day)
            removed.extend((base + s, base + e) for s, e in week_of[day.weekday()]
                           if base + e > a and base + s < limit)
        removed.sort()
        # walk the holiday intervals, each taken off once passed: the count is exact at every
        # holiday's end, and at most one holiday interval contains any other position
        pos, consumed, k = a, 0, 0
        target_in_segment = False
        while k < len(removed) and removed[k][1] <= limit:
            hs, he = removed[k]
            if (consumed + pattern.between(pos, he)) * MINUTE_US >= left:
                target_in_segment = True
                break
            consumed += pattern.between(pos, he) - (he - max(hs, a))
            pos, k = he, k + 1
        segment_end = removed[k][1] if target_in_segment else limit
        pending = removed[k] if k < len(removed) else None

        def used(x: int) -> int:
            """Open minutes in [a, x) for ``pos <= x <= segment_end``."""
            total = consumed + pattern.between(pos, x)
            if pending is not None and pending[0] < x:
                total -= min(x, pending[1]) - max(pending[0], a)
            return total

        x = pos
        if not target_in_segment and used(segment_end) * MINUTE_US < left:
            x = segment_end
        else:
            # the last week boundary in [pos, segment_end] that leaves some of ``left``
            first = -(-pos // WEEK) * WEEK
            lo, hi = 0, (segment_end - first) // WEEK if first <= segment_end else -1
            while lo <= hi:
                mid = (lo + hi) // 2
                if used(first + mid * WEEK) * MINUTE_US < left:
                    x = first + mid * WEEK
                    lo = mid + 1
                else:
                    hi = mid - 1
            resume = None
        spent = used(x)
        first_open = self._first_open(first_day, a, x)
        last_open = self._last_open(first_day, a, x)
        return Stretch(
            end_us=self._at(x),
            consumed=spent * MINUTE_US,
            first_open=None if first_open is None else self._at(first_open),
            last_open=None if last_open is None else self._at(last_open),
            resume=resume,
        )

    def _dense_from(self, holidays: Sequence[dt.date]) -> dt.date | None:
        """The first holiday from which a year holds enough holidays to close the calendar
        for as long as the search limit (``None`` if there is none)."""
        need = self._dense
        for i in range(len(holidays) - need + 1):
            if (holidays[i + need - 1] - holidays[i]).days < 366:
                return holidays[i]
        return None

    def _at(self, position: int) -> int:
        return self._to_us(wall_day(position), position % DAY)

    def _first_open(self, first_day: dt.date, a: int, x: int) -> int | None:
        """The first open wall position in ``[a, x)``."""
        day = first_day
        while wall_minute(day) < x:
            if not self._is_holiday(day):
                base = wall_minute(day)
                for s, e in self.pattern.days[day.weekday()]:
                    if base + e > a and base + s < x:
                        return max(base + s, a)
            day += dt.timedelta(days=1)
        return None

    def _last_open(self, first_day: dt.date, a: int, x: int) -> int | None:
        """The end of the last open time in ``[a, x)`` (clipped to ``x``)."""
        day = wall_day(x)
        while day >= first_day:
            if not self._is_holiday(day):
                base = wall_minute(day)
                for s, e in reversed(self.pattern.days[day.weekday()]):
                    if base + s < x and base + e > a:
                        return min(base + e, x)
            day -= dt.timedelta(days=1)
        return None
