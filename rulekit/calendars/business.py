"""The :class:`Calendar`: open time as concrete UTC intervals, and business-time arithmetic.

Open time is a set of half-open UTC intervals ``[open, close)``.  The intervals that *start* on
a local date are computed lazily, per date, from the weekly hours, holidays, exceptions and cron
windows, and kept in a small cache; arithmetic walks those intervals (never minute by minute).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from rulekit.calendars.public_holidays import CountryHolidays
from rulekit.calendars.spec import CalendarSpec, Locator, parse_spec
from rulekit.calendars.windows import firings_on
from rulekit.calendars.zone import (
    DAY_US,
    from_us,
    local_date,
    midnight_us,
    to_us,
    wall_minutes_to_us,
)
from rulekit.errors import CalendarError

#: how many days of closed time a search for open time crosses before giving up
MAX_CLOSED_DAYS = 366
_CACHE_SIZE = 2048
_ONE_DAY = dt.timedelta(days=1)

Span = tuple[int, int]


def _no_location(path: tuple[str | int, ...]) -> None:
    return None


def build_calendar(name: str, spec: Mapping[str, Any], *, at: Locator = _no_location) -> Calendar:
    """Validate a calendar definition and build the :class:`Calendar`.

    Raises :class:`~rulekit.errors.RulekitErrors` holding every problem found, each positioned
    by ``at(path)`` (``path`` being the key path inside the definition, e.g.
    ``("hours", "mon-fri")``) and with ``field_path`` set to its dotted form.
    """
    return Calendar.from_spec(name, parse_spec(spec, at))


@dataclass(frozen=True, eq=False)
class Calendar:
    """Business time of one calendar.  Immutable; equal when name and definition are equal.

    All methods take and return timezone-aware datetimes (returned instants are in UTC; use
    :meth:`local` to show them in the calendar's zone).  A naive datetime raises ``ValueError``.
    """

    name: str
    spec: CalendarSpec
    tz: ZoneInfo = field(init=False)
    _holidays: CountryHolidays | None = field(init=False, repr=False)
    _exceptions: dict[dt.date, tuple[tuple[int, int], ...]] = field(init=False, repr=False)
    _lookback: int = field(init=False, repr=False)
    _cache: dict[dt.date, tuple[int, tuple[Span, ...]]] = field(init=False, repr=False)
    # the last open period a query found: most queries fall in the period the one before
    # them did (leads arrive during open hours), and then need not walk the days again
    _recent: list[Span] = field(init=False, repr=False)

    @classmethod
    def from_spec(cls, name: str, spec: CalendarSpec) -> Calendar:
        """A calendar from an already validated :class:`CalendarSpec`."""
        return cls(name, spec)

    def __post_init__(self) -> None:
        def put(key: str, value: object) -> None:
            object.__setattr__(self, key, value)

        put("tz", ZoneInfo(self.spec.timezone))
        put("_holidays", CountryHolidays(self.spec.country, self.spec.subdivision)
            if self.spec.country else None)
        put("_exceptions", dict(self.spec.exceptions))
        longest = max(
            [e - s for day in self.spec.week for s, e in day]
            + [e - s for _, hours in self.spec.exceptions for s, e in hours]
            + [w.minutes for w in self.spec.windows] + [0])
        # intervals that start this many local dates earlier may still cover an instant
        put("_lookback", 2 + (1440 + longest) // 1440)
        put("_cache", {})
        put("_recent", [(0, 0)])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calendar):
            return NotImplemented
        return (self.name, self.spec) == (other.name, other.spec)

    def __hash__(self) -> int:
        return hash((self.name, self.spec))

    def __repr__(self) -> str:
        return f"Calendar({self.name!r}, timezone={self.spec.timezone!r})"

    # -- the open intervals ------------------------------------------------------------------

    def is_holiday(self, day: dt.date) -> bool:
        """Whether ``day`` is a holiday (an explicit date or a public holiday of the country).

        This reports the holiday list only; an exception for the date still decides its hours.
        """
        if day in self.spec.holiday_dates:
            return True
        return self._holidays is not None and day in self._holidays

    def _day(self, day: dt.date) -> tuple[int, tuple[Span, ...]]:
        """The instant local date ``day`` begins, and the open intervals (µs since epoch) that
        start on that date, merged."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        minutes: list[tuple[int, int]]
        if day in self._exceptions:
            minutes = list(self._exceptions[day])
        elif self.is_holiday(day):
            minutes = []
        else:
            minutes = list(self.spec.week[day.weekday()])
            for window in self.spec.windows:
                minutes.extend((m, m + window.minutes) for m in firings_on(window.cron, day))
            minutes.sort()
        spans: list[Span] = []
        for s, e in minutes:
            start = wall_minutes_to_us(self.tz, day, s)
            end = wall_minutes_to_us(self.tz, day, e)
            if end <= start:
                continue  # swallowed by a spring-forward gap
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        result = (midnight_us(self.tz, day), tuple(spans))
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[day] = result
        return result

    def _periods(self, start: int, horizon: int | None = None) -> Iterator[Span]:
        """Disjoint open pieces ``[s, e)`` with ``e > start``, in order.

        Open time that runs past a local midnight is yielded in pieces cut at midnights (so a
        24/7 calendar still yields); :meth:`next_close` joins touching pieces.  With
        ``horizon``, stops once no interval can start before it; without, stops after
        :data:`MAX_CLOSED_DAYS` local dates without any open interval.
        """
        today = local_date(self.tz, start)
        day = today - dt.timedelta(days=self._lookback)
        last_active = today
        pending: Span | None = None
        while True:
            midnight, spans = self._day(day)
            if horizon is not None and midnight >= horizon:
                break
            if horizon is None and (day - last_active).days > MAX_CLOSED_DAYS:
                break
            # every interval from here on starts at or after this midnight: what lies before
            # it is final
            if pending is not None and pending[0] < midnight:
                if pending[1] <= midnight:
                    yield pending
                    pending = None
                else:
                    if midnight > start:
                        yield (pending[0], midnight)
                    pending = (midnight, pending[1])
            for s, e in spans:
                if e <= start:
                    continue
                last_active = day
                if pending is None:
                    pending = (s, e)
                elif s <= pending[1]:
                    pending = (pending[0], max(pending[1], e))
                else:
                    yield pending
                    pending = (s, e)
            day += _ONE_DAY
        if pending is not None:
            yield pending

    def _never_open(self, t: dt.datetime) -> CalendarError:
        return CalendarError(
            f"calendar '{self.name}' has no open time in the {MAX_CLOSED_DAYS} days after "
            f"{self.local(t).isoformat()}", code="RK404",
            hint="check its hours, holidays and exceptions")

    # -- queries -----------------------------------------------------------------------------

    def local(self, t: dt.datetime) -> dt.datetime:
        """``t`` in the calendar's time zone."""
        to_us(t)  # rejects naive datetimes
        return t.astimezone(self.tz)

    def is_open(self, t: dt.datetime) -> bool:
        """Whether ``t`` lies in open time (intervals are half-open: open at the opening
        instant, closed at the closing instant)."""
        u = to_us(t)
        s, e = self._recent[0]
        if s <= u < e:
            return True
        for s, e in self._periods(u, u + 1):
            if s <= u:
                self._recent[0] = (s, e)
                return True
            return False
        return False

    def next_open(self, t: dt.datetime) -> dt.datetime:
        """``t`` if it is open, else the start of the next open period.

        Raises :class:`~rulekit.errors.CalendarError` (RK404) after 366 days of closed time.
        """
        u = to_us(t)
        for s, _e in self._periods(u):
            return from_us(max(s, u))
        raise self._never_open(t)

    def next_close(self, t: dt.datetime) -> dt.datetime:
        """The end of the open period containing ``t``; if ``t`` is closed, the end of the next
        open period.  Touching intervals (``…-24:00`` then ``00:00-…``) form one period.

        Raises :class:`~rulekit.errors.CalendarError` when there is no open time in the next
        366 days, or when the period does not close within 366 days (a 24/7 calendar).
        """
        u = to_us(t)
        end: int | None = None
        for s, e in self._periods(u):
            if end is not None and s > end:
                return from_us(end)
            if end is not None and e - u > MAX_CLOSED_DAYS * DAY_US:
                raise CalendarError(
                    f"calendar '{self.name}' does not close within {MAX_CLOSED_DAYS} days after "
                    f"{self.local(t).isoformat()}", code="RK404",
                    hint="a calendar open around the clock has no next close")
            end = e
        if end is not None:
            return from_us(end)
        raise self._never_open(t)

    def add_business(self, t: dt.datetime, d: dt.timedelta) -> dt.datetime:
        """The earliest instant ``r >= t`` with exactly ``d`` of open time in ``[t, r)``.

        ``d == 0`` gives ``t`` itself.  For ``d > 0`` the result is always inside open time or
        exactly at a closing instant (the instant just before it is open): Friday 15:00 plus
        two hours on a 09:00-17:00 calendar is Friday 17:00, not Monday 09:00.
        ``d < 0`` raises ``ValueError``.
        """
        u = to_us(t)
        left = d // dt.timedelta(microseconds=1)
        if left < 0:
            raise ValueError(f"business duration must not be negative, got {d}")
        if left == 0:
            return from_us(u)
        s, e = self._recent[0]
        if s <= u and u + left <= e:  # all of it in the period found last
            return from_us(u + left)
        for s, e in self._periods(u):
            begin = max(s, u)
            if left <= e - begin:
                self._recent[0] = (s, e)
                return from_us(begin + left)
            left -= e - begin
        raise self._never_open(t)

    def business_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Open time in ``[a, b)``; for ``b < a`` the negated open time in ``[b, a)``."""
        ua, ub = to_us(a), to_us(b)
        if ub < ua:
            return -self.business_between(b, a)
        total = 0
        for s, e in self._periods(ua, ub):
            if s >= ub:
                break
            total += min(e, ub) - max(s, ua)
        return dt.timedelta(microseconds=total)

    def open_periods(self, a: dt.datetime, b: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open periods overlapping ``[a, b)``, clipped to it (UTC)."""
        ua, ub = to_us(a), to_us(b)
        out: list[tuple[dt.datetime, dt.datetime]] = []
        for s, e in self._periods(ua, ub):
            if s >= ub:
                break
            out.append((from_us(max(s, ua)), from_us(min(e, ub))))
        return out
