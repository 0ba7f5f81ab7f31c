"""JUnit XML for CI systems: one test case per scenario, its failed checks as the failure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from rulekit.scenario.runner import Result


def write_junit(results: Sequence[Result], path: Path, seconds: Sequence[float]) -> None:
    failures = sum(1 for r in results if not r.ok)
    suite = ET.Element("testsuite", name="rulekit scenarios", tests=str(len(results)),
                       failures=str(failures), time=f"{sum(seconds):.3f}")
    for result, spent in zip(results, seconds, strict=True):
        case = ET.SubElement(suite, "testcase", classname=str(result.path), name=result.name,
                             time=f"{spent:.3f}")
        if not result.ok:
            lines = [d.headline() for d in result.problems]
            lines += [f"{c.text}: {c.detail}" for c in result.checks if not c.ok]
            failure = ET.SubElement(case, "failure", message=lines[0].splitlines()[0]
                                    if lines else "failed")
            failure.text = "\n".join(lines)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)
