"""A deliberately simple reference for business time, independent of rulekit.calendars.

It walks UTC instants step by step (one minute by default).  At each instant it reads the local
wall clock and keeps the *latest wall-clock reading seen so far*; the instant is open when that
reading falls inside a wall-clock opening interval ``[start, end)`` of its date or an earlier
date (overnight).  That is exactly "an interval runs from the first moment the clock shows its
start until the first moment the clock shows its end", with no fold/gap arithmetic at all.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WallInterval = tuple[int, int]  # minutes from local midnight of the start date; end may be > 1440


@dataclass
class RefCalendar:
    tz: ZoneInfo
    week: dict[int, list[WallInterval]]  # weekday (0 = Monday) -> intervals
    holidays: set[date] = field(default_factory=set)
    exceptions: dict[date, list[WallInterval]] = field(default_factory=dict)
    #: extra intervals added on every non-holiday, non-exception date (cron windows)
    windows: Callable[[date], Iterable[WallInterval]] = lambda d: ()

    _memo: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    _around: dict[date, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if day not in self._memo:
            self._memo[day] = self._intervals_on(day)
        return self._memo[day]

    def _intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.exceptions:
            raw = list(self.exceptions[day])
        elif day in self.holidays:
            raw = []
        else:
            raw = list(self.week.get(day.weekday(), [])) + list(self.windows(day))
        midnight = datetime.combine(day, time())
        return [(midnight + timedelta(minutes=s), midnight + timedelta(minutes=e))
                for s, e in raw]

    def open_at_reading(self, reading: datetime, back_days: int = 2) -> bool:
        """Whether a wall-clock reading lies in an interval of its date or an earlier one."""
        day = reading.date()
        around = self._around.get(day)
        if around is None:
            around = [iv for k in range(back_days + 1)
                      for iv in self.intervals_on(day - timedelta(days=k))]
            self._around[day] = around
        return any(start <= reading < end for start, end in around)


@dataclass
class RefTimeline:
    """Open/closed per step over ``[lo, hi)``, with prefix sums for counting."""

    lo: datetime
    step: timedelta
    open: list[bool]
    prefix: list[int]  # prefix[i] = open steps in [lo, lo + i*step)

    @classmethod
    def build(cls, cal: RefCalendar, lo: datetime, hi: datetime,
              step: timedelta = timedelta(minutes=1)) -> RefTimeline:
        warmup = lo - timedelta(days=1)
        reading: datetime | None = None
        opened: list[bool] = []
        u = warmup
        while u < hi:
            wall = u.astimezone(cal.tz).replace(tzinfo=None)
            if reading is None or wall > reading:
                reading = wall
            if u >= lo:
                opened.append(cal.open_at_reading(reading))
            u += step
        prefix = [0]
        for flag in opened:
            prefix.append(prefix[-1] + flag)
        return cls(lo, step, opened, prefix)

    def index(self, t: datetime) -> int:
        k, rem = divmod(t - self.lo, self.step)
        assert rem == timedelta(0) and 0 <= k <= len(self.open), f"{t} outside the reference"
        return k

    def is_open(self, t: datetime) -> bool:
        return self.open[self.index(t)]

    def add_business(self, t: datetime, d: timedelta) -> datetime:
        i = self.index(t)
        steps, rem = divmod(d, self.step)
        assert rem == timedelta(0)
        if steps == 0:
            return t
        j = bisect.bisect_left(self.prefix, self.prefix[i] + steps, lo=i)
        assert j < len(self.prefix), "reference horizon too short"
        return self.lo + j * self.step

    def business_between(self, a: datetime, b: datetime) -> timedelta:
        if b < a:
            return -self.business_between(b, a)
        return (self.prefix[self.index(b)] - self.prefix[self.index(a)]) * self.step


def transitions(tz: ZoneInfo, year: int) -> list[datetime]:
    """UTC instants in ``year`` at which ``tz`` changes its UTC offset (to the minute)."""
    out: list[datetime] = []
    t = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    hour = timedelta(hours=1)
    while t < end:
        if t.astimezone(tz).utcoffset() != (t + hour).astimezone(tz).utcoffset():
            m = t
            while m.astimezone(tz).utcoffset() == t.astimezone(tz).utcoffset():
                m += timedelta(minutes=1)
            out.append(m)
        t += hour
    return out
