"""``rulekit simulate SCENARIO``: the scenario's timeline, as text or JSON lines.

Text shows times in the brokerage's zone (:func:`~rulekit.world.brokerage_zone` of the
scenario's world and rules) or in ``--tz ZONE``; JSON lines keep ISO 8601 instants.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from rulekit.cli.zones import chosen_zone
from rulekit.scenario import run_scenario
from rulekit.scenario.runner import TimelineItem
from rulekit.suggest import did_you_mean
from rulekit.trace import local_time
from rulekit.world import brokerage_zone

#: A deadline in a timeline line's text, as the scenario runner words it (in UTC).
_UTC_DEADLINE = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\b")


def in_zone(text: str, zone: tzinfo) -> str:
    """``text`` with the UTC deadlines the runner writes shown in ``zone`` instead."""
    def shown(match: re.Match[str]) -> str:
        at = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        return f"{at.astimezone(zone):%a} {local_time(at, zone)}"
    return _UTC_DEADLINE.sub(shown, text)


def _unknown_lead(lead: str, timeline: Sequence[TimelineItem], shown: int = 12) -> str | None:
    """Why ``lead`` cannot be explained (no such lead in the scenario: the ones there are), or
    ``None`` when the scenario has it."""
    leads = list(dict.fromkeys(item.lead for item in timeline if item.lead))
    if lead in leads:
        return None
    hint = did_you_mean(lead, leads)
    listed = ", ".join(leads[:shown]) + (f", … ({len(leads) - shown} more)"
                                         if len(leads) > shown else "")
    return ("no such lead in the scenario" + (f" ({hint})" if hint else "")
            + f"; its leads: {listed or 'none'}")


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="rulekit simulate",
                                description="Play a scenario on a virtual clock and print what "
                                "happened, in time order.")
    p.add_argument("scenario", help="a *.scenario.yaml file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--explain", metavar="LEAD", help="also print the explanation of one lead")
    p.add_argument("--tz", metavar="ZONE",
                   help="time zone of the times shown, e.g. America/Chicago or UTC (default: "
                   "the brokerage's: the world's zone, else that of its first calendar, else "
                   "of the rules' first calendar, else UTC)")
    args = p.parse_args(argv)
    chosen = chosen_zone("rulekit simulate", args.tz)
    result = run_scenario(args.scenario)
    if result.problems:
        for problem in result.problems:
            print(problem.headline())
        return 1
    if args.explain and (unknown := _unknown_lead(args.explain, result.timeline)):
        print(f"rulekit simulate: --explain {args.explain!r}: {unknown}", file=sys.stderr)
        return 2
    engine = result.engine
    zone = chosen or (brokerage_zone(engine.world, engine.ruleset) if engine is not None
                      else UTC)
    for item in result.timeline:
        if args.format == "json":
            print(json.dumps(item.to_json(), ensure_ascii=False))
        else:
            who = f" [{item.lead}]" if item.lead else ""
            print(f"{local_time(item.at, zone)} {item.type:<14}{who} "
                  f"{in_zone(item.text, zone)}")
    if args.explain and args.format == "text":
        print()
        print(result.explain(args.explain, zone))
    return 0
