"""Cron windows: extra open time that starts at each firing of a cron expression.

A window ``{cron: "0 8 * * mon-fri", duration: 2h}`` opens at every local wall-clock time the
expression matches (standard five-field cron, evaluated by ``croniter`` on naive local time)
and stays open for ``duration`` of *wall-clock* time, exactly as if the interval
``08:00-10:00`` had been written for that date.  Both ends go through the wall-clock rule of
:mod:`rulekit.calendars.zone`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from rulekit.calendars.week import SpecProblem

MAX_WINDOW_MINUTES = 7 * 1440
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$")
_PROBE_START = datetime(2000, 1, 1)


def parse_window_duration(value: object) -> int:
    """Minutes of a window duration written ``30m``, ``2h``, ``1h30m`` or ``1d``."""
    text = value if isinstance(value, str) else None
    match = _DURATION.match(text) if text is not None else None
    if text is None or match is None or not any(match.groups()):
        raise SpecProblem("RK405", f"invalid window duration {value!r}",
                          "write a duration such as '30m', '2h' or '1h30m'")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    total = days * 1440 + hours * 60 + minutes
    if total <= 0 or total > MAX_WINDOW_MINUTES:
        raise SpecProblem("RK405", f"window duration {value!r} must be more than 0 and at most 7d",
                          "write a duration such as '30m', '2h' or '1h30m'")
    return total


def check_cron(expr: object) -> str:
    """The expression, normalised, if it is a valid five-field cron expression that fires."""
    hint = "five fields: minute hour day-of-month month day-of-week, e.g. '0 8 * * mon-fri'"
    if not isinstance(expr, str) or not expr.strip():
        raise SpecProblem("RK406", f"invalid cron expression {expr!r}", hint)
    text = " ".join(expr.split())
    if not text.startswith("@") and len(text.split(" ")) != 5:
        raise SpecProblem("RK406", f"invalid cron expression {expr!r}: expected 5 fields, "
                                   f"got {len(text.split(' '))}", hint)
    try:
        ok = croniter.is_valid(text)
    except Exception:  # croniter may raise on some odd input instead of answering
        ok = False
    if not ok or text.startswith("@reboot"):
        raise SpecProblem("RK406", f"invalid cron expression {expr!r}", hint)
    try:
        croniter(text, _PROBE_START).get_next(datetime)
    except (CroniterBadDateError, CroniterBadCronError, CroniterError, ValueError,
            OverflowError) as exc:
        raise SpecProblem("RK406", f"cron expression {expr!r} never fires",
                          "check the day-of-month and month fields (e.g. 30 2 is 30 February)"
                          ) from exc
    return text


def firings_on(expr: str, day: date) -> list[int]:
    """Minutes after local midnight at which ``expr`` fires on ``day`` (naive local time)."""
    start = datetime.combine(day, time())
    end = start + timedelta(days=1)
    out: list[int] = []
    try:
        it = croniter(expr, start - timedelta(seconds=1))
        while True:
            fire = it.get_next(datetime)
            if fire >= end:
                break
            out.append((fire.hour * 60) + fire.minute)
    except (CroniterBadDateError, CroniterError, OverflowError, ValueError):
        pass  # no more firings (or none before the year 9999 ends)
    return out
