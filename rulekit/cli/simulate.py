"""``rulekit simulate SCENARIO``: the scenario's timeline, as text or JSON lines."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC

from rulekit.scenario import run_scenario


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="rulekit simulate",
                                description="Play a scenario on a virtual clock and print what "
                                "happened, in time order.")
    p.add_argument("scenario", help="a *.scenario.yaml file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--explain", metavar="LEAD", help="also print the explanation of one lead")
    args = p.parse_args(argv)
    result = run_scenario(args.scenario)
    if result.problems:
        for problem in result.problems:
            print(problem.headline())
        return 1
    for item in result.timeline:
        if args.format == "json":
            print(json.dumps(item.to_json(), ensure_ascii=False))
        else:
            who = f" [{item.lead}]" if item.lead else ""
            print(f"{item.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC {item.type:<14}{who} "
                  f"{item.text}")
    if args.explain and result.engine is not None and args.format == "text":
        print()
        print(result.engine.explain(args.explain))
    return 0
