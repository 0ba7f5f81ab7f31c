"""Calendars by name (office and per-agent calendars), duty checks and duration helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from rulekit.calendars.business import END_INSTANT, FIRST_INSTANT, Calendar, build_calendar
from rulekit.calendars.spec import PathT
from rulekit.calendars.zone import from_us, to_us
from rulekit.errors import (
    CalendarError,
    Diagnostic,
    RulekitErrors,
    SemanticError,
    SourceLocation,
)
from rulekit.suggest import did_you_mean


class UnknownCalendarError(SemanticError, KeyError):
    """A calendar name that is not defined (RK302); the hint suggests a close name."""

    code = "RK302"

    def __str__(self) -> str:
        return SemanticError.__str__(self)


class CalendarSet(Mapping[str, Calendar]):
    """Calendars by name; looking up an unknown name raises :class:`UnknownCalendarError`."""

    __slots__ = ("_by_name",)

    def __init__(self, calendars: Mapping[str, Calendar] | None = None) -> None:
        self._by_name: dict[str, Calendar] = dict(calendars or {})

    def __getitem__(self, name: str) -> Calendar:
        return self.resolve(name)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._by_name))

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CalendarSet):
            return NotImplemented
        return self._by_name == other._by_name

    def __hash__(self) -> int:
        return hash(frozenset(self._by_name.items()))

    def __repr__(self) -> str:
        return f"CalendarSet({sorted(self._by_name)!r})"

    def resolve(self, name: str, location: SourceLocation | None = None) -> Calendar:
        """The calendar called ``name``; :class:`UnknownCalendarError` (RK302) if undefined."""
        found = self._by_name.get(name)
        if found is not None:
            return found
        known = ", ".join(sorted(self._by_name)) or "none"
        hint = did_you_mean(name, self._by_name) or f"defined calendars: {known}"
        raise UnknownCalendarError(f"undefined calendar '{name}'", location, hint=hint)


def build_calendars(
    specs: Mapping[str, Any],
    *,
    at: Callable[[PathT], SourceLocation | None] = lambda path: None,
) -> CalendarSet:
    """Build every calendar of a ``calendars:`` mapping.

    ``at`` receives paths that start with the calendar's name, e.g. ``("office", "timezone")``.
    All problems of all calendars are raised together as :class:`RulekitErrors`.
    """
    built: dict[str, Calendar] = {}
    problems: list[Diagnostic] = []
    for name, spec in specs.items():
        def local_at(path: PathT, _name: str = str(name)) -> SourceLocation | None:
            return at((_name, *path))
        try:
            built[str(name)] = build_calendar(str(name), spec, at=local_at)
        except RulekitErrors as errors:
            problems.extend(
                Diagnostic(d.code, d.message, d.location, d.severity, d.hint,
                           f"{name}.{d.field_path}" if d.field_path else str(name))
                for d in errors.diagnostics)
    if problems:
        raise RulekitErrors(problems)
    return CalendarSet(built)


def on_duty(calendar: Calendar | None, t: dt.datetime) -> bool:
    """Whether an agent with this calendar is on duty at ``t`` (no calendar: always on duty)."""
    if calendar is None:
        to_us(t)
        return True
    return calendar.is_open(t)


def add_duration(
    t: dt.datetime, seconds: int, business: bool, calendar: Calendar | None,
) -> dt.datetime:
    """``t`` plus a duration, as an aware UTC datetime.

    A plain duration (``business=False``) is absolute elapsed time (``t + seconds`` in UTC; a
    DST change does not stretch it).  A business duration counts only the calendar's open time
    (:meth:`Calendar.add_business`) and needs a calendar.
    """
    if business:
        if calendar is None:
            raise ValueError("a business duration needs a calendar")
        return calendar.add_business(t, dt.timedelta(seconds=seconds))
    end = to_us(t) + seconds * 1_000_000
    if not to_us(FIRST_INSTANT) <= end < to_us(END_INSTANT):
        raise CalendarError(
            f"{t.isoformat()} plus {seconds} seconds is outside the range of instants rulekit "
            f"computes with ({FIRST_INSTANT.date()} to {END_INSTANT.date()}, exclusive)",
            code="RK407", hint="check the instant: its year looks wrong")
    return from_us(end)
