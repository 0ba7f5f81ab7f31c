"""The first-contact part of ``rulekit report response-times``: the ``--target`` option's
duration and the table and lines it prints."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, datetime

from rulekit.cli.columns import align
from rulekit.dsl.duration import Duration, DurationProblem, clock_duration
from rulekit.first_contact import FirstContacts
from rulekit.reports import duration_text


def target_duration(text: str) -> int:
    """``--target``'s value (``45s``, ``30m``, ``2h``, ``1h30m``) in seconds; argparse's
    error, which names the option, for anything else."""
    try:
        seconds = clock_duration(text.strip()).seconds
    except DurationProblem as exc:
        hint = f"; {exc.hint}" if exc.hint else ""
        raise argparse.ArgumentTypeError(f"{exc.message}{hint}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"invalid duration '{text}': the target must be "
                                         "longer than zero, e.g. 30m")
    return seconds


def as_of(text: str) -> datetime:
    """``--now``'s value: an ISO 8601 instant (UTC when it has no offset)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an ISO 8601 instant like 2026-12-01T18:00:00Z") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _counted(items: list[tuple[str, int]], named: Mapping[str, str], total: Mapping[str, int],
             of: bool) -> str:
    def one(agent: str, n: int) -> str:
        who = named.get(agent, agent)
        if of:
            return f"{who} {n} of {total[agent]}"
        return f"{who} ({n} lead{'s' if n != 1 else ''})"

    return ", ".join(one(a, n) for a, n in items) or "nobody"


def render_first_contacts(report: FirstContacts, names: Mapping[str, str] | None = None) -> str:
    named = names or {}
    if not report.agents:
        return "First contact: no lead was assigned to an agent in this store."
    target = None if report.target is None else str(Duration(int(report.target)))
    header = ["agent", "assigned", "contacted", "never", "open", "median", "p90", "worst"]
    if target is not None:
        header.append(f"over {target}")
    rows = []
    for a in report.agents:
        row = [named.get(a.agent, a.agent), *map(str, (a.assigned, a.contacted, a.never, a.open)),
               duration_text(a.median), duration_text(a.p90), duration_text(a.worst)]
        if target is not None:
            row.append(str(a.over_target or 0))
        rows.append(row)
    # only the target's judgement of open leads depends on the report's instant
    when = ("" if target is None
            else f", as of {report.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    lines = ["First contact: from each assignment to the agent's first logged activity on the "
             f"lead (wall-clock time){when}", "",
             *align(header, rows), "",
             "contacted = a call, email, text or showing logged while the lead was theirs; "
             "never = the lead passed on (reassigned, SLA missed) without one; open = still "
             "theirs, no contact yet."]
    total = {a.agent: a.assigned for a in report.agents}
    if target is not None:
        lines[-1] += (f" over {target} = first contact after {target}, or none while they "
                      f"held the lead {target} or more.")
        lines += ["", f"Over the {target} target: "
                  + _counted(report.over_target, named, total, of=True)]
    else:
        lines += ["", "No target given: run with --target 30m (for example) to name the "
                  "agents over it."]
    lines.append("Never made contact before the lead passed on: "
                 + _counted(report.never_contacted, named, total, of=False))
    lines.append("No contact logged on any of their leads: "
                 + _counted(report.silent, named, total, of=False))
    waiting = sum(a.open for a in report.agents)
    lines.append(f"Still waiting for a first contact: {waiting} open "
                 f"lead{'s' if waiting != 1 else ''}.")
    return "\n".join(lines)


__all__ = ["as_of", "render_first_contacts", "target_duration"]
