"""``rulekit route --rules DIR --world FILE LEAD.json``: one lead through the rules."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from rulekit.config.project import check_paths
from rulekit.engine import Engine, ManualClock
from rulekit.model import Lead
from rulekit.storage import MemoryStore


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="rulekit route",
                                description="Route one lead through a folder of rule files and "
                                "explain the decision (nothing is stored).")
    p.add_argument("lead", help="lead payload as a JSON file ('-' for standard input)")
    p.add_argument("--rules", required=True, help="folder of rule files")
    p.add_argument("--world", required=True, help="world file")
    p.add_argument("--at", help="when the lead arrives (ISO instant; default: received_at)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
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
    at = datetime.fromisoformat(args.at) if args.at else lead.received_at
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
    print(decision.trace.render())
    return 0


def _fields(effect: object) -> dict[str, object]:
    return {k: getattr(effect, k) for k in getattr(effect, "__slots__", ())}
