"""Time zones: looking a zone up and turning local wall-clock times into UTC instants.

Inside the calendar module an instant is an ``int``: microseconds since the Unix epoch (UTC).
Integer arithmetic keeps business-time sums exact and fast.

The wall-clock rule
-------------------
A local wall time ``W`` maps to the **first instant at which the zone's clock reads ``W`` or
later**:

* an ordinary time maps to its only instant;
* an ambiguous time (the repeated hour when clocks go back) maps to its *first* occurrence
  (``fold=0``);
* a time that does not exist (skipped when clocks go forward) maps to the instant of the
  transition, i.e. the end of the gap (02:30 on a spring-forward night in New York is 03:00 EDT).

The rule is monotonic (a later wall time never maps to an earlier instant), so an interval
``[start, end)`` of wall times is never inverted; it may become shorter, longer or empty.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = 1_000_000  # microseconds per second
MINUTE_US = 60 * US
DAY_US = 86_400 * US
_ONE_US = timedelta(microseconds=1)


def to_us(t: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (``ValueError`` if it is naive)."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"datetime {t.isoformat()} has no time zone; pass an aware datetime")
    return (t - EPOCH) // _ONE_US


def from_us(us: int) -> datetime:
    """The aware UTC datetime of an instant in microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=us)


@lru_cache(maxsize=64)
def available_zones() -> frozenset[str]:
    """Every IANA zone name known to ``zoneinfo`` (for "did you mean" hints)."""
    return frozenset(zoneinfo.available_timezones())


def load_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone called ``name``; ``LookupError`` if there is none."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise LookupError(f"unknown time zone {name!r}")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise LookupError(f"unknown time zone {name!r}") from exc


def wall_to_us(tz: zoneinfo.ZoneInfo, wall: datetime) -> int:
    """The first instant (µs since epoch) at which the clock in ``tz`` reads ``wall`` or later.

    ``wall`` is naive local wall-clock time.  See the module docstring for the rule.
    """
    first = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == wall:
        return (first - EPOCH) // _ONE_US
    # ``wall`` falls in a gap: find the transition (the first second whose local time is >= wall)
    # between the two readings of the wall time with the offsets on either side of the gap.
    other = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo = int(min(first, other).timestamp())
    hi = int(max(first, other).timestamp())
    while lo < hi:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid + 1
    return lo * US


def local_date(tz: zoneinfo.ZoneInfo, us: int) -> date:
    """The local calendar date in ``tz`` of an instant."""
    return from_us(us).astimezone(tz).date()


def midnight_us(tz: zoneinfo.ZoneInfo, day: date) -> int:
    """The instant the local date ``day`` begins (by the wall-clock rule)."""
    return wall_to_us(tz, datetime.combine(day, time()))


def wall_minutes_to_us(tz: zoneinfo.ZoneInfo, day: date, minutes: int) -> int:
    """The instant of local wall time ``day 00:00 + minutes`` (minutes may exceed one day)."""
    return wall_to_us(tz, datetime.combine(day, time()) + timedelta(minutes=minutes))
