"""Durations: ``45s``, ``30m``, ``2h``, ``1d``, ``1h30m`` and business durations
``2 business_hours`` / ``30 business_minutes``.

A business duration counts only the open time of a calendar; the DSL does not define a
"business day" (its length would depend on the calendar), so ``business_days`` is rejected.
A step's duration must be longer than zero; one written in words (``2 hours``) gets a hint
with both spellings (``2h`` for clock time, ``2 business_hours`` for open hours).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rulekit.errors import Diagnostic, RulekitErrors, SourceLocation

#: Longest duration accepted, in seconds (366 days).
MAX_DURATION_SECONDS = 366 * 86400

UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
BUSINESS_UNITS = {
    "business_hours": 3600,
    "business_hour": 3600,
    "business_minutes": 60,
    "business_minute": 60,
}
REJECTED_BUSINESS_UNITS = ("business_days", "business_day")

_PART = re.compile(r"(\d+)([dhms])")
_CLOCK = re.compile(r"(?:\d+[dhms])+")
_BUSINESS = re.compile(r"(\d+)\s+(business_[a-z]+)")
#: A number and a unit in words (``2 hours``, ``30 mins``): what people write for a duration.
_WORDED = re.compile(r"(\d+)\s*([a-z]+)", re.IGNORECASE)
#: Unit words → (clock unit, business unit or ``None``).
WORDED_UNITS = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), ("h", "business_hours")),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), ("m", "business_minutes")),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), ("s", None)),
    **dict.fromkeys(("d", "day", "days"), ("d", None)),
}


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time; ``business`` when it counts a calendar's open time only."""

    seconds: int
    business: bool = False

    def __str__(self) -> str:
        if self.business:
            if self.seconds % 3600 == 0:
                n = self.seconds // 3600
                return f"{n} business_hour{'s' if n != 1 else ''}"
            n = self.seconds // 60
            return f"{n} business_minute{'s' if n != 1 else ''}"
        if self.seconds == 0:
            return "0s"
        parts = []
        rest = self.seconds
        for unit, size in UNIT_SECONDS.items():
            if rest >= size:
                parts.append(f"{rest // size}{unit}")
                rest %= size
        return "".join(parts)


class DurationProblem(ValueError):
    """Why a duration text is invalid: ``code`` is RK207 or RK206 (too long)."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def _bounded(seconds: int, business: bool) -> Duration:
    if seconds > MAX_DURATION_SECONDS:
        raise DurationProblem(
            "RK206", f"duration too long: the limit is 366 days ({MAX_DURATION_SECONDS} seconds)"
        )
    return Duration(seconds, business)


def clock_duration(text: str) -> Duration:
    """``1h30m`` → Duration; units must appear once each, largest first."""
    if _CLOCK.fullmatch(text) is None:
        raise DurationProblem(
            "RK207", f"invalid duration '{text}'", "write it like 45s, 30m, 2h, 1d or 1h30m"
        )
    order = list(UNIT_SECONDS)
    last = -1
    total = 0
    for match in _PART.finditer(text):
        number, unit = match.groups()
        position = order.index(unit)
        if position <= last:
            raise DurationProblem(
                "RK207",
                f"invalid duration '{text}': units must appear once each, largest first",
                "write it like 1d2h30m",
            )
        last = position
        if len(number) > 12:
            raise DurationProblem("RK206", f"duration too long: '{text}'")
        total += int(number) * UNIT_SECONDS[unit]
    return _bounded(total, False)


def business_duration(number: str, unit: str) -> Duration:
    """``2`` ``business_hours`` → Duration."""
    if unit in REJECTED_BUSINESS_UNITS:
        raise DurationProblem(
            "RK207",
            f"'{unit}' is not supported: a business day's length depends on the calendar",
            "use business_hours (e.g. 8 business_hours) instead",
        )
    if unit not in BUSINESS_UNITS:
        raise DurationProblem(
            "RK207", f"unknown duration unit '{unit}'", "use business_hours or business_minutes"
        )
    if len(number) > 12:
        raise DurationProblem("RK206", f"duration too long: '{number} {unit}'")
    return _bounded(int(number) * BUSINESS_UNITS[unit], True)


def worded_hint(text: str) -> str | None:
    """For a duration with its unit in words (``2 hours``), how to write it."""
    match = _WORDED.fullmatch(text)
    if match is None or match.group(2).lower() not in WORDED_UNITS:
        return None
    number, (unit, business) = match.group(1), WORDED_UNITS[match.group(2).lower()]
    if business is not None:
        return (f"write {number}{unit} for clock time, or {number} {business} for open hours "
                "of a calendar")
    if unit == "d":
        return (f"write {number}d for clock time (business days are not supported: count "
                "business_hours)")
    return f"write {number}{unit}"


def step_duration(text: str) -> Duration:
    """A step's duration (``for``, ``each_for``): as :func:`clock_duration` or a business
    duration, and longer than zero (a deadline of zero would pass at once)."""
    if len(text) > 64:
        raise DurationProblem("RK207", "invalid duration: text too long")
    if text.startswith("-"):
        positive = step_duration(text[1:].lstrip())
        raise DurationProblem("RK207", f"invalid duration '{text}': a duration must be longer "
                              "than zero", f"write it without the sign, like {positive}")
    business = _BUSINESS.fullmatch(text)
    try:
        duration = (business_duration(business.group(1), business.group(2))
                    if business is not None else clock_duration(text))
    except DurationProblem as problem:
        hint = worded_hint(text)
        if hint is not None and problem.code == "RK207":
            raise DurationProblem("RK207", f"invalid duration '{text}'", hint) from None
        raise
    if duration.seconds == 0:
        raise DurationProblem("RK207", f"invalid duration '{text}': a duration must be longer "
                              "than zero", "a time of zero is over at once: write a length "
                              "such as 30m or 2 business_hours")
    return duration


def parse_duration(text: str, *, locate: Callable[[int, int], SourceLocation]) -> Duration:
    """Parse a step option such as ``2 business_hours`` or ``1h30m`` (see
    :func:`step_duration`).

    Raises :class:`~rulekit.errors.RulekitErrors` with RK207 (invalid, zero or negative) or
    RK206 (over 366 days), positioned with ``locate(line, column)`` (1-based, inside ``text``).
    """
    stripped = text.strip()
    column = len(text) - len(text.lstrip()) + 1
    try:
        return step_duration(stripped)
    except DurationProblem as problem:
        location = locate(1, column)
        raise RulekitErrors(
            [Diagnostic(problem.code, problem.message, location, hint=problem.hint)]
        ) from None
