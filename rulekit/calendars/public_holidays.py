"""Public holidays from the ``holidays`` package, looked up by country and subdivision.

A holiday is a *local date* on which the calendar is closed; rulekit uses the package's default
holiday set for the country (and subdivision), which includes "observed" days the package lists
(e.g. a Monday observed for a Sunday holiday).
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
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


class CountryHolidays:
    """Membership test for one country's (and subdivision's) public holidays, year by year."""

    __slots__ = ("_table", "country", "subdivision")

    def __init__(self, country: str, subdivision: str | None) -> None:
        self.country = country
        self.subdivision = subdivision
        self._table: Any = holidays_pkg.country_holidays(country, subdiv=subdivision)

    def __contains__(self, day: date) -> bool:
        return day in self._table

    def name(self, day: date) -> str | None:
        """The holiday's name, or ``None``."""
        found = self._table.get(day)
        return str(found) if found is not None else None
