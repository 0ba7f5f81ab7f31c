"""Parse and validate a calendar definition (the YAML mapping) into a :class:`CalendarSpec`.

Every problem becomes a :class:`~rulekit.errors.Diagnostic` positioned with the caller's
``at(path)``; all problems are collected and raised together as
:class:`~rulekit.errors.RulekitErrors`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rulekit.calendars import public_holidays
from rulekit.calendars.week import (
    DAY_NAMES,
    Interval,
    Placed,
    SpecProblem,
    find_overlaps,
    parse_day_key,
    parse_day_value_collect,
)
from rulekit.calendars.windows import check_cron, parse_window_duration
from rulekit.calendars.zone import available_zones, load_zone
from rulekit.errors import DiagnosticSink, RulekitErrors, SourceLocation
from rulekit.suggest import did_you_mean

PathT = tuple[str | int, ...]
Locator = Callable[[PathT], SourceLocation | None]

TOP_KEYS = ("timezone", "hours", "holidays", "exceptions", "windows")
HOLIDAY_KEYS = ("country", "subdivision", "dates")
EXCEPTION_KEYS = ("date", "hours")
WINDOW_KEYS = ("cron", "duration")


@dataclass(frozen=True, slots=True)
class Window:
    """A cron window: the (normalised) expression and its length in wall-clock minutes."""

    cron: str
    minutes: int


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """A validated calendar definition, normalised (hashable, comparable)."""

    timezone: str
    #: intervals per weekday (0 = Monday), sorted, minutes from local midnight
    week: tuple[tuple[Interval, ...], ...]
    country: str | None = None
    subdivision: str | None = None
    holiday_dates: frozenset[dt.date] = frozenset()
    #: date → intervals starting that date (replacing weekly hours, holidays and windows)
    exceptions: tuple[tuple[dt.date, tuple[Interval, ...]], ...] = ()
    windows: tuple[Window, ...] = ()


def field_path(path: PathT) -> str:
    """The dotted form of a key path: ``("exceptions", 0, "date")`` → ``exceptions.0.date``."""
    return ".".join(str(p) for p in path)


class _Reporter:
    def __init__(self, at: Locator) -> None:
        self.at = at
        self.sink = DiagnosticSink()

    def error(self, code: str, message: str, path: PathT, hint: str | None = None) -> None:
        self.sink.error(code, message, self.at(path), hint=hint,
                        field_path=field_path(path) or None)

    def problem(self, problem: SpecProblem, path: PathT) -> None:
        self.error(problem.code, problem.message, path, problem.hint)

    def unknown_keys(self, value: Mapping[Any, Any], allowed: tuple[str, ...],
                     path: PathT) -> None:
        for key in value:
            if key not in allowed:
                self.error("RK102", f"unknown property {key!r}", (*path, str(key)),
                           did_you_mean(str(key), allowed))


def parse_date(value: object) -> dt.date:
    """A ``YYYY-MM-DD`` date (a ``date`` object is accepted as is)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return dt.date.fromisoformat(text)
            except ValueError as exc:
                raise SpecProblem("RK407", f"invalid date {value!r}: {exc}",
                                  "dates are YYYY-MM-DD, e.g. '2026-12-24'") from exc
    raise SpecProblem("RK407", f"invalid date {value!r}", "dates are YYYY-MM-DD, e.g. '2026-12-24'")


def parse_spec(spec: object, at: Locator) -> CalendarSpec:
    """Validate ``spec``; raise :class:`RulekitErrors` with every problem found."""
    rep = _Reporter(at)
    if not isinstance(spec, Mapping):
        rep.error("RK103", f"a calendar must be a mapping, not {type(spec).__name__}", ())
        raise RulekitErrors(rep.sink.items)
    rep.unknown_keys(spec, TOP_KEYS, ())

    tz_name = _timezone(spec, rep)
    week, hours_ok = _hours(spec.get("hours"), rep)
    country, subdivision, dates = _holidays(spec.get("holidays"), rep)
    exceptions, exc_ok = _exceptions(spec.get("exceptions"), rep)
    windows, win_ok = _windows(spec.get("windows"), rep)

    if hours_ok and exc_ok and win_ok and not any(week) and not windows \
            and not any(hours for _, hours in exceptions):
        where: PathT = ("hours",) if "hours" in spec else ()
        rep.error("RK404", "calendar is never open: it has no opening hours, no windows and no "
                  "open exceptions", where,
                  "add hours, e.g. hours: {mon-fri: '09:00-17:00'}")
    if rep.sink.items:
        raise RulekitErrors(rep.sink.items)
    assert tz_name is not None
    return CalendarSpec(tz_name, week, country, subdivision, frozenset(dates),
                        tuple(sorted(exceptions)), tuple(windows))


def _timezone(spec: Mapping[str, Any], rep: _Reporter) -> str | None:
    if "timezone" not in spec:
        rep.error("RK101", "calendar needs a 'timezone' (an IANA zone such as America/New_York)",
                  ())
        return None
    name = spec["timezone"]
    try:
        load_zone(name)
    except LookupError:
        hint = did_you_mean(name, available_zones()) if isinstance(name, str) else None
        rep.error("RK401", f"unknown time zone {name!r}", ("timezone",),
                  hint or "use an IANA zone name such as 'America/New_York' or 'Europe/Berlin'")
        return None
    return str(name)


def _hours(value: object, rep: _Reporter) -> tuple[tuple[tuple[Interval, ...], ...], bool]:
    empty: tuple[tuple[Interval, ...], ...] = ((),) * 7
    if value is None:
        return empty, True
    if not isinstance(value, Mapping):
        rep.error("RK103", "'hours' must be a mapping of days to intervals", ("hours",))
        return empty, False
    ok = True
    placed: list[Placed] = []
    for key, day_value in value.items():
        path: PathT = ("hours", str(key))
        try:
            days = parse_day_key(key)
        except SpecProblem as bad_key:
            rep.problem(bad_key, path)
            ok = False
            continue
        good, problems = parse_day_value_collect(day_value)
        for index, problem in problems:
            rep.problem(problem, path if index is None else (*path, index))
            ok = False
        for index, text, interval in good:
            entry_path = path if index is None else (*path, index)
            order = len(placed)
            placed.extend(Placed(d, interval, text, str(key), entry_path, order) for d in days)
    for first, second, overlap_days in find_overlaps(placed):
        _overlap(rep, first, second, overlap_days)
        ok = False
    week = tuple(tuple(sorted(p.interval for p in placed if p.day == d)) for d in range(7))
    return week, ok


def _overlap(rep: _Reporter, first: Placed, second: Placed, days: list[int]) -> None:
    names = ", ".join(DAY_NAMES[d] for d in sorted(days))
    rep.error(
        "RK403",
        f"opening hours overlap on {names}: '{second.text}' ({second.key}) and "
        f"'{first.text}' ({first.key})",
        second.path,
        f"'{first.text}' from '{first.key}' overlaps '{second.text}' from '{second.key}'; "
        "intervals may touch (12:00-13:00 and 13:00-17:00) but not overlap",
    )


def _holidays(value: object, rep: _Reporter) -> tuple[str | None, str | None, list[dt.date]]:
    if value is None:
        return None, None, []
    if not isinstance(value, Mapping):
        rep.error("RK103", "'holidays' must be a mapping (country, subdivision, dates)",
                  ("holidays",))
        return None, None, []
    rep.unknown_keys(value, HOLIDAY_KEYS, ("holidays",))
    country: str | None = None
    subdivision: str | None = None
    if value.get("country") is not None:
        try:
            country = public_holidays.check_country(value["country"])
        except SpecProblem as problem:
            rep.problem(problem, ("holidays", "country"))
    if value.get("subdivision") is not None:
        if "country" not in value or value.get("country") is None:
            rep.error("RK402", "a holiday subdivision needs a country", ("holidays", "subdivision"),
                      "add holidays.country, e.g. country: US")
        elif country is not None:
            try:
                subdivision = public_holidays.check_subdivision(country, value["subdivision"])
            except SpecProblem as problem:
                rep.problem(problem, ("holidays", "subdivision"))
                country = None
    dates: list[dt.date] = []
    raw = value.get("dates")
    if raw is not None:
        if not isinstance(raw, list):
            rep.error("RK103", "'holidays.dates' must be a list of dates", ("holidays", "dates"))
        else:
            for i, item in enumerate(raw):
                try:
                    dates.append(parse_date(item))
                except SpecProblem as problem:
                    rep.problem(problem, ("holidays", "dates", i))
    return country, subdivision, dates


def _exceptions(
    value: object, rep: _Reporter,
) -> tuple[list[tuple[dt.date, tuple[Interval, ...]]], bool]:
    out: list[tuple[dt.date, tuple[Interval, ...]]] = []
    if value is None:
        return out, True
    if not isinstance(value, list):
        rep.error("RK103", "'exceptions' must be a list of {date, hours}", ("exceptions",))
        return out, False
    ok = True
    seen: dict[dt.date, int] = {}
    for i, item in enumerate(value):
        path: PathT = ("exceptions", i)
        if not isinstance(item, Mapping):
            rep.error("RK103", "an exception must be a mapping with 'date' and 'hours'", path)
            ok = False
            continue
        rep.unknown_keys(item, EXCEPTION_KEYS, path)
        day: dt.date | None = None
        if "date" not in item:
            rep.error("RK101", "an exception needs a 'date'", path)
            ok = False
        else:
            try:
                day = parse_date(item["date"])
            except SpecProblem as bad_date:
                rep.problem(bad_date, (*path, "date"))
                ok = False
        if day is not None and day in seen:
            rep.error("RK407", f"date {day.isoformat()} has two exceptions "
                      f"(the first is exceptions[{seen[day]}])", (*path, "date"),
                      "merge them into one exception with a list of intervals")
            day, ok = None, False
        if "hours" not in item:
            rep.error("RK101", "an exception needs 'hours' (intervals or 'closed')", path)
            ok = False
            continue
        good, problems = parse_day_value_collect(item["hours"])
        hours_path: PathT = (*path, "hours")
        for index, problem in problems:
            rep.problem(problem, hours_path if index is None else (*hours_path, index))
            ok = False
        placed = [Placed(0, interval, text, "exception", hours_path if index is None
                         else (*hours_path, index), n)
                  for n, (index, text, interval) in enumerate(good)]
        overlaps = find_overlaps(placed, cyclic=False)
        for first, second, _days in overlaps:
            rep.error("RK403", f"exception hours overlap: '{first.text}' and '{second.text}'",
                      second.path, f"'{first.text}' overlaps '{second.text}'")
            ok = False
        if day is not None:
            seen[day] = i
            if not overlaps:
                out.append((day, tuple(sorted(p.interval for p in placed))))
    return out, ok


def _windows(value: object, rep: _Reporter) -> tuple[list[Window], bool]:
    out: list[Window] = []
    if value is None:
        return out, True
    if not isinstance(value, list):
        rep.error("RK103", "'windows' must be a list of {cron, duration}", ("windows",))
        return out, False
    ok = True
    for i, item in enumerate(value):
        path: PathT = ("windows", i)
        if not isinstance(item, Mapping):
            rep.error("RK103", "a window must be a mapping with 'cron' and 'duration'", path)
            ok = False
            continue
        rep.unknown_keys(item, WINDOW_KEYS, path)
        cron: str | None = None
        minutes: int | None = None
        for key in WINDOW_KEYS:
            if key not in item:
                rep.error("RK101", f"a window needs '{key}'", path)
                ok = False
        if "cron" in item:
            try:
                cron = check_cron(item["cron"])
            except SpecProblem as problem:
                rep.problem(problem, (*path, "cron"))
                ok = False
        if "duration" in item:
            try:
                minutes = parse_window_duration(item["duration"])
            except SpecProblem as problem:
                rep.problem(problem, (*path, "duration"))
                ok = False
        if cron is not None and minutes is not None:
            out.append(Window(cron, minutes))
    return out, ok
