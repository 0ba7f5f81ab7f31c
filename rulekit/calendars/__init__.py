"""Business time: calendars of opening hours, holidays, exceptions and cron windows.

Pure (no wall clock, no I/O).  Build a calendar from its YAML definition with
:func:`build_calendar`, then ask it :meth:`Calendar.is_open`, :meth:`Calendar.next_open`,
:meth:`Calendar.next_close`, :meth:`Calendar.add_business` and
:meth:`Calendar.business_between`.  ``docs/calendars.md`` is the reference.
"""

from __future__ import annotations

from rulekit.calendars.agents import (
    CalendarSet,
    UnknownCalendarError,
    add_duration,
    build_calendars,
    on_duty,
)
from rulekit.calendars.business import (
    END_INSTANT,
    FIRST_INSTANT,
    HORIZON_DAYS,
    MAX_CLOSED_DAYS,
    Calendar,
    build_calendar,
    check_horizons,
)
from rulekit.calendars.spec import CalendarSpec, Window, parse_spec

__all__ = [
    "END_INSTANT",
    "FIRST_INSTANT",
    "HORIZON_DAYS",
    "MAX_CLOSED_DAYS",
    "Calendar",
    "CalendarSet",
    "CalendarSpec",
    "UnknownCalendarError",
    "Window",
    "add_duration",
    "build_calendar",
    "build_calendars",
    "check_horizons",
    "on_duty",
    "parse_spec",
]
