"""Weekly opening hours: day keys, ``HH:MM-HH:MM`` intervals and the overlap check.

An interval is a pair of minutes ``(start, end)`` counted from the local midnight of the day it
starts on: ``"09:00-17:00"`` is ``(540, 1020)``; an overnight ``"22:00-06:00"`` is
``(1320, 1800)`` (its end lies on the next day); ``"00:00-24:00"`` is ``(0, 1440)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rulekit.suggest import did_you_mean

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_ALIASES: dict[str, tuple[int, ...]] = {
    "daily": (0, 1, 2, 3, 4, 5, 6),
    "weekdays": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
}
CLOSED = "closed"
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Interval = tuple[int, int]


class SpecProblem(Exception):
    """One problem in a calendar definition, before it is given a position."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def parse_day_key(key: object) -> tuple[int, ...]:
    """The weekdays (0 = Monday) named by a key of ``hours``.

    Accepted: ``mon`` … ``sun``, ``daily``, ``weekdays``, ``weekends``, ranges ``mon-fri``
    (a range may wrap: ``fri-mon`` is Friday to Monday), and comma lists of these
    (``sat,sun``, ``mon-wed,fri``).
    """
    if not isinstance(key, str) or not key.strip():
        raise SpecProblem("RK405", f"invalid day key {key!r}", _day_hint(str(key)))
    days: list[int] = []
    for raw in key.split(","):
        part = raw.strip()
        if part in DAY_ALIASES:
            days.extend(DAY_ALIASES[part])
        elif "-" in part:
            first, _, last = (p.strip() for p in part.partition("-"))
            if first not in DAY_NAMES or last not in DAY_NAMES:
                bad = first if first not in DAY_NAMES else last
                where = "" if part == key else f" in {key!r}"
                raise SpecProblem("RK405", f"invalid day range {part!r}{where}", _day_hint(bad))
            a, b = DAY_NAMES.index(first), DAY_NAMES.index(last)
            days.extend((a + i) % 7 for i in range((b - a) % 7 + 1))
        elif part in DAY_NAMES:
            days.append(DAY_NAMES.index(part))
        else:
            where = "" if part == key else f" in {key!r}"
            raise SpecProblem("RK405", f"invalid day {part!r}{where}", _day_hint(part))
    return tuple(sorted(set(days)))


def _day_hint(name: str) -> str:
    known = (*DAY_NAMES, *DAY_ALIASES)
    guess = did_you_mean(name.strip(), known)
    listing = "days are mon, tue, wed, thu, fri, sat, sun, daily, weekdays, weekends, ranges " \
              "like mon-fri or lists like sat,sun"
    return f"{guess} {listing}" if guess else listing


def _clock(hours: str, minutes: str, text: str, *, end: bool) -> int:
    h, m = int(hours), int(minutes)
    if len(hours) != 2:
        raise SpecProblem("RK405", f"invalid time in {text!r}: write hours with two digits",
                          "times are HH:MM, e.g. '09:00-17:00'")
    if m > 59 or h > 24 or (h == 24 and (m != 0 or not end)):
        what = "24:00 is only allowed as an end time" if h == 24 and m == 0 else \
            f"{hours}:{minutes} is not a time of day"
        raise SpecProblem("RK405", f"invalid time in {text!r}: {what}",
                          "times are HH:MM from 00:00 to 23:59; 24:00 may end an interval")
    return h * 60 + m


def parse_interval(text: object) -> Interval:
    """Parse ``"HH:MM-HH:MM"``; an end at or before the start means the interval runs overnight."""
    if not isinstance(text, str):
        raise SpecProblem("RK405", f"invalid interval {text!r}: expected 'HH:MM-HH:MM'",
                          "quote the interval, e.g. \"09:00-17:00\"")
    match = _INTERVAL.match(text)
    if not match:
        raise SpecProblem("RK405", f"invalid interval {text!r}: expected 'HH:MM-HH:MM'",
                          "e.g. '09:00-17:00', or 'closed'")
    start = _clock(match[1], match[2], text, end=False)
    end = _clock(match[3], match[4], text, end=True)
    if end == start:
        raise SpecProblem("RK405", f"empty interval {text!r}: it starts and ends at the same time",
                          "write '00:00-24:00' for a whole day")
    if end < start:
        end += MINUTES_PER_DAY
    return (start, end)


def parse_day_value_collect(
    value: Any,
) -> tuple[list[tuple[int | None, str, Interval]], list[tuple[int | None, SpecProblem]]]:
    """Parse the value of an ``hours`` key (or of an exception's ``hours``).

    Returns ``(index, text, interval)`` triples, ``index`` being the position in a list value
    (``None`` for a single string), and the problems found with the same indexes.
    ``"closed"`` and ``[]`` give no intervals.
    """
    good: list[tuple[int | None, str, Interval]] = []
    problems: list[tuple[int | None, SpecProblem]] = []
    items: Sequence[Any]
    if isinstance(value, str):
        if value.strip() == CLOSED:
            return good, problems
        items, indexed = [value], False
    elif isinstance(value, list):
        items, indexed = value, True
    else:
        problems.append((None, SpecProblem(
            "RK405", f"invalid opening hours {value!r}",
            "write 'HH:MM-HH:MM', a list of such intervals, or 'closed'")))
        return good, problems
    for i, item in enumerate(items):
        index = i if indexed else None
        if indexed and isinstance(item, str) and item.strip() == CLOSED:
            if len(items) > 1:
                problems.append((index, SpecProblem(
                    "RK405", "'closed' cannot be mixed with intervals",
                    "write 'closed' alone, or list only intervals")))
            continue
        try:
            good.append((index, item, parse_interval(item)))
        except SpecProblem as problem:
            problems.append((index, problem))
    return good, problems


@dataclass(frozen=True, slots=True)
class Placed:
    """An interval placed on a weekday, remembering where it was written."""

    day: int
    interval: Interval
    text: str
    key: str
    path: tuple[str | int, ...]
    order: int


def find_overlaps(
    placed: Sequence[Placed], *, cyclic: bool = True,
) -> list[tuple[Placed, Placed, list[int]]]:
    """Pairs of intervals that overlap, with the days (of the later one) where they do.

    Positions are minutes in the week (``day * 1440 + minute``); with ``cyclic`` the week wraps
    (Sunday's overnight interval runs into Monday).  Touching intervals do not overlap.
    Pairs from the same two source entries are reported once with all their days.
    """
    found: dict[tuple[int, int], tuple[Placed, Placed, list[int]]] = {}
    shifts = (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK) if cyclic else (0,)
    for i, a in enumerate(placed):
        a_s = a.day * MINUTES_PER_DAY + a.interval[0]
        a_e = a.day * MINUTES_PER_DAY + a.interval[1]
        for b in placed[i + 1:]:
            b_s = b.day * MINUTES_PER_DAY + b.interval[0]
            b_e = b.day * MINUTES_PER_DAY + b.interval[1]
            if any(a_s < b_e + k and b_s + k < a_e for k in shifts):
                first, second = (a, b) if a.order <= b.order else (b, a)
                entry = found.setdefault((first.order, second.order), (first, second, []))
                if second.day not in entry[2]:
                    entry[2].append(second.day)
    return sorted(found.values(), key=lambda e: (e[1].order, e[0].order))


def format_minutes(minutes: int) -> str:
    """``HH:MM`` of a minute offset (``24:00`` and beyond for overnight ends)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
