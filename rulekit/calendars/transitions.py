"""When a time zone changes its UTC offset: the transitions of its TZif file (RFC 8536).

Business-time arithmetic skips whole weeks of a calendar only between offset changes that
could alter the length of its open intervals, so it needs every change, exactly.  ``zoneinfo``
does not expose them; this module reads the same file ``zoneinfo`` reads (the first match on
``zoneinfo.TZPATH``, else the ``tzdata`` package) and evaluates the file's explicit
transitions and its POSIX TZ rule string the way ``zoneinfo`` evaluates them for an instant
(``datetime.astimezone``), to the second.  :func:`zone_changes` returns ``None`` when the file
cannot be found or read; callers then walk day by day instead.
"""

from __future__ import annotations

import bisect
import calendar
import os
import re
import struct
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

US = 1_000_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_LAST_YEAR = 9999
_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


@dataclass(frozen=True, slots=True)
class OffsetChange:
    """From instant ``at`` (µs since the epoch, UTC) on, the offset is ``after`` (µs) instead
    of ``before``."""

    at: int
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class _Day:
    """The day of a POSIX rule (``Mm.w.d``, ``Jn`` or ``n``) and its time (seconds)."""

    kind: str  # "M", "J" or "n"
    a: int  # month, or day number
    w: int = 0
    d: int = 0
    seconds: int = 7200

    def local_epoch(self, year: int) -> int:
        """Seconds of "local" time since 1970-01-01 at which the rule fires in ``year``."""
        days_before_year = date(year, 1, 1).toordinal() - _EPOCH_ORDINAL
        if self.kind == "M":
            first, length = calendar.monthrange(year, self.a)
            day = (self.d - (first + 1)) % 7 + 1 + (self.w - 1) * 7
            if day > length:
                day -= 7
            days = days_before_year + _DAYS_BEFORE_MONTH[self.a] \
                + (self.a > 2 and calendar.isleap(year)) + day - 1
        else:
            # as zoneinfo counts them: Jn from 1 (a leap day from J59 on), n from 0 the day
            # before 1 January (zoneinfo's reading; tzdata has no such rule)
            n = self.a
            if self.kind == "J" and n >= 59 and calendar.isleap(year):
                n += 1
            days = days_before_year + n - 1
        return days * 86400 + self.seconds


@dataclass(frozen=True, slots=True)
class _Rule:
    """A POSIX TZ string with daylight saving time: offsets in seconds east of UTC."""

    std: int
    dst: int
    start: _Day
    end: _Day

    def transitions(self, year: int) -> tuple[int, int]:
        """UTC seconds at which DST starts and ends in ``year``."""
        return (self.start.local_epoch(year) - self.std,
                self.end.local_epoch(year) - self.dst)

    def offset(self, ts: int, year: int) -> int:
        start, end = self.transitions(year)
        dst = start <= ts < end if start < end else not end <= ts < start
        return self.dst if dst else self.std


_NAME = r"(?:[^<0-9:.+,-]+|<[a-zA-Z0-9+-]+>)"
_OFFSET = r"[+-]?\d{1,3}(?::\d{2}(?::\d{2})?)?"
_TZ_STRING = re.compile(
    rf"(?P<std>{_NAME})(?:(?P<stdoff>{_OFFSET})(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?)?)?"
    r"(?:,(?P<start>[^,]+),(?P<end>[^,]+))?", re.ASCII)
_CLOCK = re.compile(r"([+-])?(\d{1,3})(?::(\d{2})(?::(\d{2}))?)?", re.ASCII)
_M_DAY = re.compile(r"M(\d{1,2})\.(\d)\.(\d)", re.ASCII)


def _clock_seconds(text: str) -> int:
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid time {text!r}")
    total = int(match[2]) * 3600 + int(match[3] or 0) * 60 + int(match[4] or 0)
    return -total if match[1] == "-" else total


def _rule_day(text: str) -> _Day:
    day, _, clock = text.partition("/")
    seconds = _clock_seconds(clock) if clock else 7200
    if (match := _M_DAY.fullmatch(day)) is not None:
        m, w, d = (int(g) for g in match.groups())
        if not (1 <= m <= 12 and 1 <= w <= 5 and 0 <= d <= 6):
            raise ValueError(f"invalid rule day {text!r}")
        return _Day("M", m, w, d, seconds)
    if day.startswith("J"):
        return _Day("J", int(day[1:]), seconds=seconds)
    return _Day("n", int(day), seconds=seconds)


def parse_tz_string(text: str) -> _Rule | int:
    """A POSIX TZ string: a fixed offset (seconds east of UTC) or a DST rule."""
    match = _TZ_STRING.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid TZ string {text!r}")
    std = -_clock_seconds(match["stdoff"]) if match["stdoff"] else 0
    if match["dst"] is None:
        if match["start"] is not None:
            raise ValueError(f"TZ string {text!r} has rules but no DST")
        return std
    dst = -_clock_seconds(match["dstoff"]) if match["dstoff"] else std + 3600
    if match["start"] is None:
        raise ValueError(f"TZ string {text!r} has DST but no rules")
    return _Rule(std, dst, _rule_day(match["start"]), _rule_day(match["end"]))


def parse_tzif(data: bytes) -> ZoneChanges:
    """The offset changes described by the bytes of a TZif file."""

    def header(at: int) -> tuple[int, tuple[int, ...]]:
        if data[at:at + 4] != b"TZif":
            raise ValueError("not a TZif file")
        version = 1 if data[at + 4] == 0 else int(chr(data[at + 4]))
        return version, struct.unpack(">6l", data[at + 20:at + 44])

    version, counts = header(0)
    at, size, leap_size = 44, 4, 8
    if version >= 2:
        isut, isstd, leap, times, types, chars = counts
        at += times * 5 + types * 6 + chars + leap * 8 + isstd + isut
        version, counts = header(at)
        at, size, leap_size = at + 44, 8, 12
    isut, isstd, leap, times, types, chars = counts
    stamps = struct.unpack(f">{times}{'q' if size == 8 else 'l'}", data[at:at + times * size])
    at += times * size
    indexes = data[at:at + times]
    at += times
    infos = [struct.unpack(">lbB", data[at + 6 * i:at + 6 * i + 6]) for i in range(types)]
    at += types * 6 + chars + leap * leap_size + isstd + isut
    footer: str | None = None
    if version >= 2 and data[at:at + 1] == b"\n":
        footer = data[at + 1:data.index(b"\n", at + 1)].decode("ascii")
    offsets = [infos[i][0] for i in indexes]
    before = next((utoff for utoff, isdst, _ in infos if not isdst),
                  offsets[0] if offsets else 0)
    after: _Rule | int
    if footer:
        after = parse_tz_string(footer)
    elif offsets:
        after = offsets[-1]
    elif infos:
        after = infos[-1][0]
    else:
        raise ValueError("TZif file without local time types")
    return ZoneChanges(before, list(stamps), offsets, after)


class ZoneChanges:
    """Every change of a zone's UTC offset, as ``datetime.astimezone`` sees them."""

    def __init__(self, before: int, stamps: list[int], offsets: list[int],
                 after: _Rule | int) -> None:
        self._before = before
        self._stamps = stamps
        self._offsets = offsets
        self._after = after
        explicit: list[OffsetChange] = []
        previous = before
        for stamp, offset in zip(stamps, offsets, strict=True):
            if offset != previous:
                explicit.append(OffsetChange(stamp * US, previous * US, offset * US))
            previous = offset
        self._explicit = explicit
        self._explicit_at = [change.at for change in explicit]
        self._years: dict[int, tuple[OffsetChange, ...]] = {}
        #: from this instant (µs) on, only the TZ rule string makes changes
        self.rule_from = ((stamps[-1] + 1) if stamps else -(2**62) // US) * US
        shifts = [abs(c.after - c.before) for c in explicit]
        if isinstance(after, _Rule):
            shifts.append(abs(after.dst - after.std) * US)
        shifts.append(abs(self._offset_s((stamps[-1] if stamps else 0) + 1) - previous) * US)
        #: the largest change of offset, µs
        self.max_shift = max(shifts)

    def _offset_s(self, ts: int) -> int:
        """Offset (seconds) in effect at UTC second ``ts``."""
        stamps = self._stamps
        if stamps and ts < stamps[0]:
            return self._before
        if not stamps or ts > stamps[-1]:
            after = self._after
            if isinstance(after, int):
                return after
            year = date.fromordinal(_EPOCH_ORDINAL + ts // 86400).year
            return after.offset(ts, year)
        return self._offsets[bisect.bisect_right(stamps, ts) - 1]

    def offset_at(self, us: int) -> int:
        """The UTC offset (µs) in effect at instant ``us``."""
        return self._offset_s(us // US) * US

    def weekly_windows(self) -> list[tuple[float, float]] | None:
        """Where the rule's changes fall in the local week, every year: ``(lo, hi)`` minutes
        from Monday 00:00 (possibly past the end of the week) bounding the wall-clock times
        each change skips or repeats.  ``[]`` for a fixed offset; ``None`` when the rule's
        changes do not keep to a weekday, or could fall near the turn of a year."""
        rule = self._after
        if isinstance(rule, int):
            return []
        windows: list[tuple[float, float]] = []
        for day, before, after in ((rule.start, rule.std, rule.dst),
                                   (rule.end, rule.dst, rule.std)):
            if day.kind != "M" or not 2 <= day.a <= 11:
                return None
            local = ((day.d - 1) % 7) * 86400 + day.seconds  # in the offset before the change
            low, high = sorted((local, local + after - before))
            windows.append(((low % (7 * 86400)) / 60,
                            (low % (7 * 86400) + high - low) / 60))
        return windows

    def _rule_changes(self, year: int) -> tuple[OffsetChange, ...]:
        found = self._years.get(year)
        if found is None:
            found = tuple(self._compute_rule_changes(year))
            if len(self._years) >= 4096:
                self._years.clear()
            self._years[year] = found
        return found

    def _compute_rule_changes(self, year: int) -> Iterator[OffsetChange]:
        """Changes that the TZ rule makes in UTC year ``year``, after the explicit ones."""
        first = (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * 86400
        last = (date(year + 1, 1, 1).toordinal() - _EPOCH_ORDINAL) * 86400 \
            if year < _LAST_YEAR else first + 366 * 86400
        floor = (self._stamps[-1] + 1) if self._stamps else None
        points = {first}
        if isinstance(self._after, _Rule):
            points.update(self._after.transitions(year))
        if floor is not None:
            points.add(floor)
        for point in sorted(points):
            if not first <= point < last or (floor is not None and point < floor):
                continue
            before, after = self._offset_s(point - 1), self._offset_s(point)
            if before != after:
                yield OffsetChange(point * US, before * US, after * US)

    def changes_after(self, us: int) -> Iterator[OffsetChange]:
        """The changes at instants ``> us``, in order (lazily; the last in year 9999)."""
        index = bisect.bisect_right(self._explicit_at, us)
        yield from self._explicit[index:]
        if isinstance(self._after, int) and self._stamps:
            last = self._stamps[-1] + 1
            if last * US > us and self._offset_s(last) != self._offset_s(last - 1):
                yield OffsetChange(last * US, self._offset_s(last - 1) * US,
                                   self._offset_s(last) * US)
            return
        start_s = max(us // US, (self._stamps[-1] + 1) if self._stamps else us // US)
        year = date.fromordinal(_EPOCH_ORDINAL + start_s // 86400).year
        for y in range(year, _LAST_YEAR + 1):
            for change in self._rule_changes(y):
                if change.at > us:
                    yield change

    def count_between(self, a: int, b: int) -> int:
        """At least the number of changes at instants in ``(a, b]`` (an upper bound)."""
        explicit = bisect.bisect_right(self._explicit_at, b) \
            - bisect.bisect_right(self._explicit_at, a)
        if isinstance(self._after, int):
            return explicit + 1
        years = (b - a) // (365 * 86400 * US) + 2
        return explicit + 3 * years


def _tzif_bytes(key: str) -> bytes:
    for folder in zoneinfo.TZPATH:
        candidate = os.path.join(folder, key)
        if os.path.isfile(candidate):
            with open(candidate, "rb") as handle:
                return handle.read()
    package = resources.files("tzdata").joinpath("zoneinfo", *key.split("/"))
    return package.read_bytes()


@lru_cache(maxsize=128)
def zone_changes(key: str) -> ZoneChanges | None:
    """The offset changes of zone ``key``; ``None`` if its file cannot be read."""
    try:
        return parse_tzif(_tzif_bytes(key))
    except (OSError, ValueError, LookupError, struct.error, ImportError, IndexError):
        return None
