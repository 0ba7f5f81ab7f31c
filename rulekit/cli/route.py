"""``rulekit route --rules DIR --world FILE LEAD.json``: one lead through the rules.

The explanation shows times in the brokerage's zone (:func:`~rulekit.world.brokerage_zone`)
or in ``--tz ZONE``; ``--format json`` keeps ISO 8601 instants.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path

from pydantic import ValidationError

from rulekit.cli.zones import chosen_zone
from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage import MemoryStore
from rulekit.world import brokerage_zone

AT_FORMS = ("an ISO 8601 date-time with a UTC offset (2026-12-01T10:00-05:00, "
            "2026-12-01T15:00Z) or a date (2026-12-01)")


def parse_at(text: str) -> datetime | date:
    """``--at``: an aware date-time, or a date (its start in the brokerage's zone);
    ``ValueError`` saying what is accepted."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--at {text!r} is not {AT_FORMS}") from None
    return parsed if "T" in value.upper() or " " in value else parsed.date()


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="rulekit route",
                                description="Route one lead through a folder of rule files and "
                                "explain the decision (nothing is stored).")
    p.add_argument("lead", help="lead payload as a JSON file ('-' for standard input)")
    p.add_argument("--rules", required=True, help="folder of rule files")
    p.add_argument("--world", required=True, help="world file")
    p.add_argument("--at", metavar="ISO",
                   help=f"when the lead arrives: {AT_FORMS}, which starts at 00:00 in the "
                   "zone of --tz or the brokerage's (default: the lead's received_at)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--tz", metavar="ZONE",
                   help="time zone of the times shown, e.g. America/Chicago or UTC (default: "
                   "the brokerage's: the world's zone, else that of its first calendar, else "
                   "of the rules' first calendar, else UTC)")
    args = p.parse_args(argv)
    chosen = chosen_zone("rulekit route", args.tz)
    try:
        at_arg = parse_at(args.at) if args.at else None
    except ValueError as exc:
        print(f"rulekit route: {exc}", file=sys.stderr)
        return 2
    if isinstance(at_arg, datetime) and at_arg.tzinfo is None:
        print(f"rulekit route: --at {args.at!r} has no UTC offset: add one, e.g. "
              f"{at_arg:%Y-%m-%dT%H:%M}-05:00 or {at_arg:%Y-%m-%dT%H:%M}Z", file=sys.stderr)
        return 2
    if args.lead != "-" and not Path(args.lead).is_file():
        print(f"rulekit route: cannot read {args.lead}: no such file", file=sys.stderr)
        return 1
    checked = check_paths([args.rules, args.world])
    if not checked.ok:
        for diag in checked.diagnostics:
            print(diag.headline(), file=sys.stderr)
        return 1
    ruleset = checked.rulesets.get(str(Path(args.rules)))
    world = checked.worlds.get(str(Path(args.world)))
    if ruleset is None or world is None:
        print("rulekit route: --rules must be a folder of rule files and --world a world file",
              file=sys.stderr)
        return 2
    try:
        raw = (sys.stdin.read() if args.lead == "-"
               else Path(args.lead).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"rulekit route: cannot read {args.lead}: {exc}", file=sys.stderr)
        return 1
    try:
        lead = Lead.model_validate_json(raw)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(x) for x in err["loc"])
            print(f"{args.lead}: {field}: {err['msg']}", file=sys.stderr)
        return 1
    if isinstance(at_arg, datetime):
        at = at_arg
    elif at_arg is not None:  # a date: its start where the brokerage is
        at = datetime.combine(at_arg, time(0), chosen or brokerage_zone(world, ruleset))
    else:
        at = lead.received_at
    engine = Engine(ruleset, world, MemoryStore(), clock=ManualClock(at))
    decision = engine.receive(lead, at)
    assert decision is not None
    state = decision.state
    if args.format == "json":
        print(json.dumps({"lead": lead.id, "state": state.to_dict(),
                          "effects": [{"type": type(e).__name__, **_fields(e)}
                                      for e in decision.effects],
                          "trace": decision.trace.to_json()}, indent=2, default=str,
                         ensure_ascii=False))
        return 0
    outcome = {"assigned": f"assigned to {state.assignee}",
               "waiting": "waiting: " + (f"offered to {', '.join(state.pending.agents)}"
                                         if state.pending and state.pending.agents
                                         else "held"),
               "queued": f"in queue '{state.queue}' ({state.reason})",
               "dropped": f"dropped ({state.reason})",
               "unrouted": f"unrouted ({state.reason})"}[state.status]
    print(f"Decision: {outcome}")
    print()
    print(decision.trace.render(chosen or brokerage_zone(world, ruleset)))
    return 0


def _fields(effect: object) -> dict[str, object]:
    return {k: getattr(effect, k) for k in getattr(effect, "__slots__", ())}
