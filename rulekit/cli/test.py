"""``rulekit test PATH…``: run scenario files (``*.scenario.yaml``) and report each expectation."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from rulekit.scenario import Result, run_scenario
from rulekit.scenario.junit import report_path_problem, write_junit

SUFFIX = ".scenario.yaml"


def find_scenarios(paths: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f"*{SUFFIX}") if p.is_file()))
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def render(result: Result, *, verbose: bool) -> list[str]:
    mark = "PASS" if result.ok else "FAIL"
    lines = [f"{mark} {result.path}: {result.name}"]
    for problem in result.problems:
        lines.append(f"  {problem.headline()}")
        if problem.hint:
            lines.append(f"    hint: {problem.hint}")
    for check in result.checks:
        if check.ok and not verbose:
            continue
        where = f" ({check.location})" if check.location and not check.ok else ""
        lines.append(f"  {'✓' if check.ok else '✗'} {check.text}{where}")
        if not check.ok and check.detail:
            first, _, rest = check.detail.partition("\n")
            lines.append(f"      {first}")
            lines.extend(f"      | {line}" for line in rest.splitlines())
    return lines


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="rulekit test",
                                description="Run scenario files on a virtual clock and check "
                                "their expectations. The rules are validated first.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    p.add_argument("--junit-xml", metavar="FILE", help="also write a JUnit XML report")
    p.add_argument("-v", "--verbose", action="store_true", help="show passing checks too")
    args = p.parse_args(argv)
    report = Path(args.junit_xml) if args.junit_xml else None
    if report is not None and (problem := report_path_problem(report)) is not None:
        print(f"rulekit test: cannot write --junit-xml {report}: {problem}", file=sys.stderr)
        return 2
    missing = [path for path in args.paths if not Path(path).exists()]
    if missing:  # a typo: say so before running anything
        print(f"rulekit test: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    scenarios = find_scenarios(args.paths)
    if not scenarios:
        print("no scenario files (*.scenario.yaml) found")
        return 1
    results: list[Result] = []
    seconds: list[float] = []
    started: list[datetime] = []
    for path in scenarios:
        started.append(datetime.now().astimezone())
        began = time.perf_counter()
        result = run_scenario(path)
        seconds.append(time.perf_counter() - began)
        results.append(result)
        print("\n".join(render(result, verbose=args.verbose)))
    passed = sum(1 for r in results if r.ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    if report is not None:
        try:
            write_junit(results, report, seconds, started)
        except OSError as exc:  # the folder was checked before the run; it changed since
            print(f"rulekit test: cannot write --junit-xml {report}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 2
    return 0 if failed == 0 else 1
