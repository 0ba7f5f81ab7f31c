"""JUnit XML for CI systems.

The report has the shape the common JUnit schema (Jenkins' ``junit-10.xsd``, the one pytest's
``xunit2`` output follows) describes::

    <testsuites name="rulekit scenarios" tests=… failures=… errors=… time=…>
      <testsuite name=FILE tests="1" failures=… errors=… skipped="0" time=… timestamp=…
                 hostname=…>
        <testcase classname=… name=SCENARIO time=…>
          <failure message=… type="expectation">the failed expectations</failure>
          <error message=… type="RKnnn">the positioned diagnostics</error>
        </testcase>
      </testsuite>
    </testsuites>

One ``<testsuite>`` per scenario file, holding its one scenario.  A scenario whose expectations
fail is a ``<failure>``; a scenario file that cannot be run (it does not load or validate, its
rules are invalid, an event names something unknown) is an ``<error>``.
"""

from __future__ import annotations

import os
import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from rulekit.config.load import load_file
from rulekit.errors import Diagnostic, LoadError
from rulekit.scenario.runner import Result

SUFFIX = ".scenario.yaml"


def scenario_name(path: Path) -> str:
    """The name a scenario file reports under: its ``scenario:`` name, or, when the file cannot
    be read that far, its file name."""
    try:
        data = load_file(path).data
    except (LoadError, OSError):
        return path.name
    name = data.get("scenario") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else path.name


def classname(path: Path) -> str:
    """``rules/leadstreet/scenarios/x.scenario.yaml`` → ``rules.leadstreet.scenarios.x``: CI
    systems show the part before the last dot as the package and the rest as the class."""
    text = path.as_posix()
    text = text.removesuffix(SUFFIX) if text.endswith(SUFFIX) else str(Path(text).with_suffix(""))
    return ".".join(part for part in text.split("/") if part not in ("", ".", ".."))


def report_path_problem(path: Path) -> str | None:
    """Why a report cannot be written to ``path`` (``None`` when it can): checked before any
    scenario runs, so that a wrong path fails at once rather than after the whole run."""
    folder = path.parent
    if path.is_dir():
        return f"{path} is a folder"
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        return f"folder {folder} {what}"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path} is not writable"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"folder {folder} is not writable"
    return None


def _diagnostic_lines(diagnostic: Diagnostic) -> list[str]:
    lines = [diagnostic.headline()]
    if diagnostic.hint:
        lines.append(f"  hint: {diagnostic.hint}")
    return lines


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def write_junit(results: Sequence[Result], path: Path, seconds: Sequence[float],
                started: Sequence[datetime] | None = None) -> None:
    """Write the report of ``results`` (each run in ``seconds[i]``, begun at ``started[i]``;
    default: now) to ``path``."""
    now = datetime.now().astimezone()
    begun = list(started) if started is not None else [now] * len(results)
    hostname = socket.gethostname()
    errors = sum(1 for r in results if r.problems)
    failures = sum(1 for r in results if not r.ok and not r.problems)
    root = ET.Element("testsuites", name="rulekit scenarios", tests=str(len(results)),
                      failures=str(failures), errors=str(errors),
                      time=_seconds(sum(seconds)))
    for result, spent, at in zip(results, seconds, begun, strict=True):
        error = bool(result.problems)
        failed = not result.ok and not error
        suite = ET.SubElement(root, "testsuite", name=result.path.as_posix(), tests="1",
                              failures=str(int(failed)), errors=str(int(error)), skipped="0",
                              time=_seconds(spent),
                              timestamp=at.isoformat(timespec="seconds"), hostname=hostname)
        name = (scenario_name(result.path) if error and result.name == result.path.name
                else result.name)
        case = ET.SubElement(suite, "testcase", classname=classname(result.path), name=name,
                             time=_seconds(spent))
        if error:
            first = result.problems[0]
            element = ET.SubElement(case, "error", message=first.headline().splitlines()[0],
                                    type=first.code)
            element.text = "\n".join(line for d in result.problems
                                     for line in _diagnostic_lines(d))
        elif failed:
            checks = [c for c in result.checks if not c.ok]
            first_check = checks[0] if checks else None
            message = ((first_check.detail or first_check.text).splitlines()[0]
                       if first_check is not None else "failed")
            element = ET.SubElement(case, "failure", message=message, type="expectation")
            element.text = "\n".join(
                (f"{c.location}: " if c.location else "") + c.text
                + (f"\n{c.detail}" if c.detail else "") for c in checks)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
