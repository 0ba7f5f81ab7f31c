"""Durations: ``45s``, ``30m``, ``2h``, ``1d``, ``1h30m`` and business durations
``2 business_hours`` / ``30 business_minutes``.

A business duration counts only the open time of a calendar; the DSL does not define a
"business day" (its length would depend on the calendar), so ``business_days`` is rejected.
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


def parse_duration(text: str, *, locate: Callable[[int, int], SourceLocation]) -> Duration:
    """Parse a step option such as ``2 business_hours`` or ``1h30m``.

    Raises :class:`~rulekit.errors.RulekitErrors` with RK207 (invalid) or RK206 (over 366 days),
    positioned with ``locate(line, column)`` (1-based, inside ``text``).
    """
    stripped = text.strip()
    column = len(text) - len(text.lstrip()) + 1
    try:
        if len(stripped) > 64:
            raise DurationProblem("RK207", "invalid duration: text too long")
        business = _BUSINESS.fullmatch(stripped)
        if business is not None:
            return business_duration(business.group(1), business.group(2))
        return clock_duration(stripped)
    except DurationProblem as problem:
        location = locate(1, column)
        raise RulekitErrors(
            [Diagnostic(problem.code, problem.message, location, hint=problem.hint)]
        ) from None
