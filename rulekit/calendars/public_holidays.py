"""Public holidays from the ``holidays`` package, looked up by country and subdivision.

A holiday is a *local date* on which the calendar is closed; rulekit uses the package's default
holiday set for the country (and subdivision), which includes "observed" days the package lists
(e.g. a Monday observed for a Sunday holiday).
"""

from __future__ import annotations

import bisect
from datetime import MAXYEAR, MINYEAR, date
from functools import cache, lru_cache
from typing import Any

import holidays as holidays_pkg

from rulekit.calendars.week import SpecProblem
from rulekit.suggest import closest


@lru_cache(maxsize=1)
def supported() -> dict[str, tuple[str, ...]]:
    """Country code → its subdivision codes, as the ``holidays`` package supports them."""
    raw: dict[str, Any] = holidays_pkg.list_supported_countries()
    return {code: tuple(subdivs) for code, subdivs in raw.items()}


def check_country(country: object) -> str:
    """The country code if the ``holidays`` package knows it."""
    table = supported()
    if isinstance(country, str) and country in table:
        return country
    two_letter = sorted(c for c in table if len(c) == 2)
    guess = closest(str(country), two_letter) if isinstance(country, str) else None
    hint = f"did you mean '{guess}'?" if guess else \
        "use an ISO 3166-1 alpha-2 code supported by the holidays package, e.g. " \
        + ", ".join(c for c in ("US", "CA", "GB", "DE", "IE", "AU") if c in table)
    raise SpecProblem("RK402", f"unknown holiday country {country!r}", hint)


def check_subdivision(country: str, subdivision: object) -> str:
    """The subdivision code if the country has it."""
    subdivs = supported().get(country, ())
    if isinstance(subdivision, str) and subdivision in subdivs:
        return subdivision
    if not subdivs:
        raise SpecProblem("RK402", f"holiday country {country!r} has no subdivisions, "
                                   f"so {subdivision!r} is unknown", "remove 'subdivision'")
    guess = closest(str(subdivision), subdivs) if isinstance(subdivision, str) else None
    hint = f"did you mean '{guess}'?" if guess else \
        f"subdivisions of {country}: " + ", ".join(subdivs[:40]) + (" …" if len(subdivs) > 40
                                                                    else "")
    raise SpecProblem("RK402", f"unknown subdivision {subdivision!r} of {country!r}", hint)


_NONE: tuple[dict[date, str], list[date]] = ({}, [])


@cache
def _year_span(country: str) -> tuple[int, int]:
    """The years the package has holidays of ``country`` for (none outside them)."""
    kind: Any = type(holidays_pkg.country_holidays(country))
    return int(getattr(kind, "start_year", MINYEAR)), int(getattr(kind, "end_year", MAXYEAR))


class CountryHolidays:
    """Membership test for one country's (and subdivision's) public holidays.

    The package computes holidays year by year; they are fetched ten years at a time and kept
    as plain sorted dates, so that long business-time searches can list the holidays of a
    span without testing each date.
    """

    __slots__ = ("_blocks", "country", "subdivision")

    _BLOCK = 10
    _MAX_BLOCKS = 64

    def __init__(self, country: str, subdivision: str | None) -> None:
        self.country = country
        self.subdivision = subdivision
        self._blocks: dict[int, tuple[dict[date, str], list[date]]] = {}

    def _block(self, year: int) -> tuple[dict[date, str], list[date]]:
        key = year // self._BLOCK
        found = self._blocks.get(key)
        if found is None:
            first = max(MINYEAR, key * self._BLOCK)
            years = range(first, min(MAXYEAR, key * self._BLOCK + self._BLOCK - 1) + 1)
            start, end = _year_span(self.country)
            if not (start <= years[-1] and years[0] <= end):
                return _NONE  # outside the package's years: nothing to keep
            table: Any = holidays_pkg.country_holidays(
                self.country, subdiv=self.subdivision, years=years)
            names = {day: str(name) for day, name in table.items() if day.year in years}
            found = (names, sorted(names))
            if len(self._blocks) >= self._MAX_BLOCKS:
                self._blocks.clear()
            self._blocks[key] = found
        return found

    def __contains__(self, day: date) -> bool:
        return day in self._block(day.year)[0]

    def name(self, day: date) -> str | None:
        """The holiday's name, or ``None``."""
        return self._block(day.year)[0].get(day)

    def between(self, first: date, last: date) -> list[date]:
        """The holidays from ``first`` to ``last`` (inclusive), in order."""
        out: list[date] = []
        year = first.year
        while year <= last.year:
            days = self._block(year)[1]
            out.extend(days[bisect.bisect_left(days, first):bisect.bisect_right(days, last)])
            year = (year // self._BLOCK + 1) * self._BLOCK
        return out
