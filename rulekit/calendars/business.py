"""The :class:`Calendar`: open time as concrete UTC intervals, and business-time arithmetic.

Open time is a set of half-open UTC intervals ``[open, close)``.  The intervals that *start* on
a local date are computed lazily, per date, from the weekly hours, holidays, exceptions and cron
windows, and kept in a small cache; arithmetic walks those intervals (never minute by minute),
and long durations skip stretches of regular weeks in one step (:mod:`rulekit.calendars.skip`).
Instants outside FIRST_INSTANT .. END_INSTANT raise :class:`~rulekit.errors.CalendarError`.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from rulekit.calendars.public_holidays import CountryHolidays
from rulekit.calendars.skip import Skipper, WeekPattern
from rulekit.calendars.spec import CalendarSpec, Locator, parse_spec
from rulekit.calendars.transitions import zone_changes
from rulekit.calendars.windows import firings_on
from rulekit.calendars.zone import (
    DAY_US,
    MINUTE_US,
    from_us,
    local_date,
    midnight_us,
    to_us,
    wall_minutes_to_us,
)
from rulekit.errors import CalendarError, DiagnosticSink, SourceLocation

#: how many days of closed time a search for open time crosses before giving up
MAX_CLOSED_DAYS = 366
#: validation wants open time within MAX_CLOSED_DAYS of every instant of the HORIZON_DAYS days
#: from the validation date (see :meth:`Calendar.check_horizon`)
HORIZON_DAYS = 366
#: the instants calendar arithmetic supports: from FIRST_INSTANT (included) to END_INSTANT
#: (excluded), UTC; anything outside raises CalendarError (RK407)
FIRST_INSTANT = dt.datetime(2, 1, 1, tzinfo=dt.UTC)
END_INSTANT = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
_FIRST_US = to_us(FIRST_INSTANT)
_END_US = to_us(END_INSTANT)
_CLOSED_US = MAX_CLOSED_DAYS * DAY_US
_CACHE_SIZE = 2048
_ONE_DAY = dt.timedelta(days=1)
#: days walked at a time when whole stretches cannot be skipped
_CHUNK_DAYS = 28

Span = tuple[int, int]


def _no_location(path: tuple[str | int, ...]) -> None:
    return None


def check_horizons(calendars: Mapping[str, Calendar], today: dt.date,
                   sink: DiagnosticSink) -> None:
    """Report (RK404) each calendar that stops opening in the year from ``today``
    (:meth:`Calendar.check_horizon`)."""
    for calendar in calendars.values():
        problem = calendar.check_horizon(today)
        if problem is not None:
            sink.extend_from(problem)


def build_calendar(name: str, spec: Mapping[str, Any], *, at: Locator = _no_location,
                   location: SourceLocation | None = None) -> Calendar:
    """Validate a calendar definition and build the :class:`Calendar`.

    Raises :class:`~rulekit.errors.RulekitErrors` holding every problem found, each positioned
    by ``at(path)`` (``path`` being the key path inside the definition, e.g.
    ``("hours", "mon-fri")``) and with ``field_path`` set to its dotted form.  ``location``
    is where the calendar is defined; errors of its arithmetic quote it.
    """
    return Calendar.from_spec(name, parse_spec(spec, at), location=location)


@dataclass(frozen=True, eq=False)
class Calendar:
    """Business time of one calendar.  Immutable; equal when name and definition are equal.

    All methods take and return timezone-aware datetimes (returned instants are in UTC; use
    :meth:`local` to show them in the calendar's zone).  A naive datetime raises ``ValueError``.
    """

    name: str
    spec: CalendarSpec
    #: where the calendar is defined (quoted by the errors of its arithmetic)
    location: SourceLocation | None = field(default=None, compare=False)
    tz: ZoneInfo = field(init=False)
    _holidays: CountryHolidays | None = field(init=False, repr=False)
    _exceptions: dict[dt.date, tuple[tuple[int, int], ...]] = field(init=False, repr=False)
    _lookback: int = field(init=False, repr=False)
    _cache: dict[dt.date, tuple[int, tuple[Span, ...]]] = field(init=False, repr=False)
    # the last open period a query found: most queries fall in the period the one before
    # them did (leads arrive during open hours), and then need not walk the days again
    _recent: list[Span] = field(init=False, repr=False)
    # the skipper of long durations, built on first use (``[None]`` when there is none)
    _skipper: list[Skipper | None] = field(init=False, repr=False)
    _holiday_list: list[dt.date] = field(init=False, repr=False)
    _week_us: int = field(init=False, repr=False)  # open time of the weekly hours, per week

    @classmethod
    def from_spec(cls, name: str, spec: CalendarSpec, *,
                  location: SourceLocation | None = None) -> Calendar:
        """A calendar from an already validated :class:`CalendarSpec`."""
        return cls(name, spec, location)

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
        put("_skipper", [])
        put("_holiday_list", sorted(self.spec.holiday_dates))
        put("_week_us", sum(e - s for day in self.spec.week for s, e in day) * MINUTE_US)

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
        :data:`MAX_CLOSED_DAYS` local dates without any open interval.  Raises
        :class:`CalendarError` rather than look at dates past the supported range.
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
            if midnight >= _END_US + 3 * DAY_US:  # a little past the end: results are checked
                raise self._past_range()
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

    def _never_open(self, t: dt.datetime | int) -> CalendarError:
        return CalendarError(
            f"calendar '{self.name}' has no open time in the {MAX_CLOSED_DAYS} days after "
            f"{self._show(t)}", self.location, code="RK404",
            hint="check its hours, holidays and exceptions")

    def _past_range(self) -> CalendarError:
        return CalendarError(
            f"calendar '{self.name}': the result would be after {END_INSTANT.date()}, the end "
            "of the range business time is computed in", self.location, code="RK407",
            hint="a duration that long needs more opening hours")

    def _show(self, t: dt.datetime | int) -> str:
        """An instant in the calendar's zone, for messages (in UTC at the ends of time)."""
        u = t if isinstance(t, int) else to_us(t)
        if _FIRST_US <= u < _END_US:
            return from_us(u).astimezone(self.tz).isoformat()
        return t.isoformat() if isinstance(t, dt.datetime) else str(u)

    def _us(self, t: dt.datetime) -> int:
        """``t`` in µs since the epoch, refused outside the supported range."""
        u = to_us(t)
        if not _FIRST_US <= u < _END_US:
            raise CalendarError(
                f"calendar '{self.name}': {t.isoformat()} is outside the range business time "
                f"is computed in ({FIRST_INSTANT.date()} to {END_INSTANT.date()}, exclusive)",
                self.location, code="RK407", hint="check the instant: its year looks wrong")
        return u

    def _result(self, u: int) -> dt.datetime:
        if u >= _END_US:
            raise self._past_range()
        return from_us(u)

    # -- queries -----------------------------------------------------------------------------

    def local(self, t: dt.datetime) -> dt.datetime:
        """``t`` in the calendar's time zone."""
        to_us(t)  # rejects naive datetimes
        return t.astimezone(self.tz)

    def is_open(self, t: dt.datetime) -> bool:
        """Whether ``t`` lies in open time (intervals are half-open: open at the opening
        instant, closed at the closing instant)."""
        u = self._us(t)
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
        u = self._us(t)
        for s, _e in self._periods(u):
            return self._result(max(s, u))
        raise self._never_open(t)

    def next_close(self, t: dt.datetime) -> dt.datetime:
        """The end of the open period containing ``t``; if ``t`` is closed, the end of the next
        open period.  Touching intervals (``…-24:00`` then ``00:00-…``) form one period.

        Raises :class:`~rulekit.errors.CalendarError` when there is no open time in the next
        366 days, or when the period does not close within 366 days (a 24/7 calendar).
        """
        u = self._us(t)
        end: int | None = None
        for s, e in self._periods(u):
            if end is not None and s > end:
                return self._result(end)
            if end is not None and e - u > MAX_CLOSED_DAYS * DAY_US:
                raise CalendarError(
                    f"calendar '{self.name}' does not close within {MAX_CLOSED_DAYS} days after "
                    f"{self._show(t)}", self.location, code="RK404",
                    hint="a calendar open around the clock has no next close")
            end = e
        if end is not None:
            return self._result(end)
        raise self._never_open(t)

    def add_business(self, t: dt.datetime, d: dt.timedelta) -> dt.datetime:
        """The earliest instant ``r >= t`` with exactly ``d`` of open time in ``[t, r)``.

        ``d == 0`` gives ``t`` itself.  For ``d > 0`` the result is always inside open time or
        exactly at a closing instant (the instant just before it is open): Friday 15:00 plus
        two hours on a 09:00-17:00 calendar is Friday 17:00, not Monday 09:00.
        ``d < 0`` raises ``ValueError``.  Raises :class:`~rulekit.errors.CalendarError`
        when the calendar has no open time for 366 days on the way (RK404), or when ``t`` or
        the result lies outside the supported range (RK407).
        """
        u = self._us(t)
        left = d // dt.timedelta(microseconds=1)
        if left < 0:
            raise ValueError(f"business duration must not be negative, got {d}")
        if left == 0:
            return from_us(u)
        s, e = self._recent[0]
        if s <= u and u + left <= e:  # all of it in the period found last
            return self._result(u + left)
        return self._result(self._add(u, left))

    def _add(self, u: int, left: int, *, skip: bool = True) -> int:
        """``u`` plus ``left`` µs of open time: walks the open periods, and skips stretches of
        regular weeks in one step when there is a skipper (``skip=False``: walk only)."""
        # a duration of a few weeks' hours is walked: as fast, and no zone file to read
        skipper = self._get_skipper() if skip and left > 2 * self._week_us else None
        cur, last_end = u, u
        start: dt.date | None = None
        if skipper is not None:
            today = local_date(self.tz, u)
            if left > skipper.upper_bound(today - _ONE_DAY, _END_US, u):
                raise self._past_range()
            start = skipper.next_start(today + _ONE_DAY)
        while True:
            if skipper is not None and start is not None:
                start, stop = self._skip_start(skipper, start, cur)
            else:
                stop = self._midnight(local_date(self.tz, cur) + dt.timedelta(days=_CHUNK_DAYS))
            landing, left, last_end = self._walk(cur, min(stop, _END_US), left, last_end)
            if landing is not None:
                return landing
            if stop >= _END_US:
                raise self._past_range()
            cur = stop
            if skipper is None or start is None:
                continue
            stretch = skipper.stretch(start, left, stop)
            if stretch.first_open is not None and stretch.last_open is not None:
                if stretch.first_open - last_end > _CLOSED_US:
                    raise self._never_open(last_end)
                last_end = stretch.last_open
            left -= stretch.consumed
            cur = max(cur, stretch.end_us)
            if cur - last_end > _CLOSED_US:
                raise self._never_open(last_end)
            start = stretch.resume

    def _midnight(self, day: dt.date) -> int:
        """The instant local date ``day`` begins; the end of the range if it is past it."""
        if day >= END_INSTANT.date():
            return _END_US
        return midnight_us(self.tz, day)

    def _skip_start(self, skipper: Skipper, day: dt.date, cur: int) -> tuple[dt.date, int]:
        """The first date from ``day`` on where a stretch may start, after instant ``cur``."""
        while True:
            day = skipper.next_start(day)
            stop = self._midnight(day)
            if stop >= cur:
                return day, stop
            day += _ONE_DAY

    def _walk(self, cur: int, stop: int, left: int, last_end: int) -> tuple[int | None, int, int]:
        """Count open time from ``cur`` up to ``stop``: the instant ``left`` µs of it run out
        (or ``None``), what is left, and the end of the last open time seen."""
        for s, e in self._periods(cur, stop):
            if s >= stop:
                break
            begin, end = max(s, cur), min(e, stop)
            if end <= begin:
                continue
            if begin - last_end > _CLOSED_US:
                raise self._never_open(last_end)
            if left <= end - begin:
                self._recent[0] = (s, e)
                return begin + left, 0, begin + left
            left -= end - begin
            last_end = end
        if stop - last_end > _CLOSED_US:
            raise self._never_open(last_end)
        return None, left, last_end

    def _get_skipper(self) -> Skipper | None:
        if not self._skipper:
            self._skipper.append(self._make_skipper())
        return self._skipper[0]

    def _make_skipper(self) -> Skipper | None:
        """A :class:`Skipper` when the weekly hours repeat (no cron windows) and the zone's
        offset changes are known."""
        if self.spec.windows:
            return None
        changes = zone_changes(self.spec.timezone)
        if changes is None or changes.weekly_windows() is None:
            return None  # unknown changes, or a rule whose years overlap: walk
        try:
            pattern = WeekPattern(self.spec.week)
        except ValueError:
            return None
        if pattern.total == 0:
            return None
        return Skipper(pattern, changes, lookback=self._lookback,
                       exceptions=self.spec.exceptions, is_holiday=self.is_holiday,
                       holidays_between=self._holidays_between, to_us=self._wall_us,
                       last_day=END_INSTANT.date() - dt.timedelta(days=14))

    def _holidays_between(self, first: dt.date, last: dt.date) -> list[dt.date]:
        """The holiday dates from ``first`` to ``last`` (inclusive), in order."""
        explicit = self._holiday_list
        found = set(explicit[bisect.bisect_left(explicit, first):
                             bisect.bisect_right(explicit, last)])
        if self._holidays is not None:
            found.update(self._holidays.between(first, last))
        return sorted(found)

    def _wall_us(self, day: dt.date, minutes: int) -> int:
        return wall_minutes_to_us(self.tz, day, minutes)

    def check_horizon(self, today: dt.date) -> CalendarError | None:
        """Whether the calendar keeps opening over the year from local date ``today``.

        Every instant of the :data:`HORIZON_DAYS` days from the start of ``today`` must have
        open time within :data:`MAX_CLOSED_DAYS` days after it (else business-time arithmetic
        from that instant fails): returns the problem (RK404, at the calendar's location) or
        ``None``.  Used by ``rulekit validate`` with the validation date.
        """
        ref = midnight_us(self.tz, today)
        limit = ref + HORIZON_DAYS * DAY_US
        end = limit + _CLOSED_US + DAY_US
        cursor = ref
        for s, e in self._periods(ref, end):
            if s >= end or s - cursor > _CLOSED_US:
                break
            cursor = max(cursor, e)
            if cursor >= limit:
                return None
        hint = ("rules that count business time need open time at least once every "
                f"{MAX_CLOSED_DAYS} days; check the hours and the holiday and exception dates")
        if cursor == ref:
            message = (f"calendar '{self.name}' has no open time in the next "
                       f"{HORIZON_DAYS} days")
        else:
            message = (f"calendar '{self.name}' is closed for more than {MAX_CLOSED_DAYS} days "
                       f"after {from_us(cursor).astimezone(self.tz).isoformat()}")
        return CalendarError(message, self.location, code="RK404", hint=hint,
                             field_path=self.name)

    def business_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Open time in ``[a, b)``; for ``b < a`` the negated open time in ``[b, a)``."""
        ua, ub = self._us(a), self._us(b)
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
        ua, ub = self._us(a), self._us(b)
        out: list[tuple[dt.datetime, dt.datetime]] = []
        for s, e in self._periods(ua, ub):
            if s >= ub:
                break
            out.append((from_us(max(s, ua)), from_us(min(e, ub))))
        return out
