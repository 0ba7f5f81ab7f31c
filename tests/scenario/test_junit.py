"""`rulekit test --junit-xml`: the report CI systems read, and the pytest items' names."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from rulekit.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
POSITIONED = re.compile(r"^\S+:\d+:\d+: error\[RK\d{3}\]: ", re.MULTILINE)

#: The attributes each element may carry in the common JUnit schema (Jenkins' junit-10.xsd,
#: which pytest's xunit2 output follows), and those it must carry.
ALLOWED = {
    "testsuites": {"name", "time", "tests", "failures", "disabled", "errors"},
    "testsuite": {"name", "tests", "failures", "errors", "time", "disabled", "skipped",
                  "timestamp", "hostname", "id", "package"},
    "testcase": {"name", "assertions", "time", "classname", "status"},
    "failure": {"message", "type"},
    "error": {"message", "type"},
}
REQUIRED = {
    "testsuites": {"tests", "failures", "errors", "time"},
    "testsuite": {"name", "tests", "failures", "errors", "skipped", "time", "timestamp",
                  "hostname"},
    "testcase": {"name", "classname", "time"},
    "failure": {"message"},
    "error": {"message"},
}
CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"properties", "testcase", "system-out", "system-err"},
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
    "failure": set(),
    "error": set(),
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def check_shape(element: ET.Element) -> None:
    tag = element.tag
    assert tag in ALLOWED, tag
    attributes = set(element.attrib)
    assert attributes <= ALLOWED[tag], (tag, attributes - ALLOWED[tag])
    assert REQUIRED[tag] <= attributes, (tag, REQUIRED[tag] - attributes)
    for name in ("tests", "failures", "errors", "skipped"):
        if name in element.attrib:
            assert element.attrib[name].isdigit(), (tag, name, element.attrib[name])
    if "time" in element.attrib:
        assert float(element.attrib["time"]) >= 0
    for child in element:
        assert child.tag in CHILDREN[tag], (tag, child.tag)
        check_shape(child)


@pytest.fixture
def scenarios(tmp_path: Path) -> Path:
    """A copy of the LeadStreet folder with one failing and one unreadable scenario file."""
    folder = tmp_path / "leadstreet"
    shutil.copytree(ROOT / "rules" / "leadstreet", folder)
    listing = folder / "scenarios" / "listing-inquiry.scenario.yaml"
    listing.write_text(listing.read_text().replace("assigned_to: a-jordan-lee",
                                                   "assigned_to: a-kai-morgan"))
    (folder / "scenarios" / "broken.scenario.yaml").write_text(
        "rulekit: 1\nscenario: broken-one\nstart: [unclosed\n")
    return folder / "scenarios"


def test_report_has_the_common_junit_shape(scenarios: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.xml"
    report.parent.mkdir()
    files = sorted(scenarios.glob("*.scenario.yaml"))
    code, _, _ = run("test", "--junit-xml", str(report), str(scenarios))
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    check_shape(root)
    assert root.attrib["tests"] == str(len(files))
    assert root.attrib["failures"] == "1"
    assert root.attrib["errors"] == "1"
    suites = root.findall("testsuite")
    assert [s.attrib["name"] for s in suites] == [p.as_posix() for p in files]
    assert sum(float(s.attrib["time"]) for s in suites) == pytest.approx(
        float(root.attrib["time"]), abs=0.01)
    for suite in suites:
        assert suite.attrib["tests"] == "1" and suite.attrib["skipped"] == "0"
        stamp = datetime.fromisoformat(suite.attrib["timestamp"])
        assert stamp.tzinfo is not None
        assert suite.attrib["hostname"]
        assert len(suite.findall("testcase")) == 1
    by_file = {Path(s.attrib["name"]).name: s for s in suites}

    passing = by_file["agent-site-owned-at-once.scenario.yaml"]
    case = passing.find("testcase")
    assert case is not None
    assert case.attrib["name"] == "agent-site-lead-is-the-owners"
    assert case.attrib["classname"].endswith("leadstreet.scenarios.agent-site-owned-at-once")
    assert list(case) == []
    assert passing.attrib["failures"] == passing.attrib["errors"] == "0"

    failing = by_file["listing-inquiry.scenario.yaml"]
    assert (failing.attrib["failures"], failing.attrib["errors"]) == ("1", "0")
    failure = failing.find("testcase/failure")
    assert failure is not None and failing.find("testcase/error") is None
    assert failure.attrib["message"] == (
        "expected assigned to a-kai-morgan, but assigned to a-jordan-lee")
    assert "expected assigned to a-kai-morgan, but assigned to a-jordan-lee" in (
        failure.text or "")

    broken = by_file["broken.scenario.yaml"]
    assert (broken.attrib["failures"], broken.attrib["errors"]) == ("0", "1")
    case = broken.find("testcase")
    assert case is not None and case.find("failure") is None
    assert case.attrib["name"] == "broken.scenario.yaml"  # the name is past the YAML error
    error = case.find("error")
    assert error is not None
    assert POSITIONED.match(error.attrib["message"]), error.attrib["message"]
    assert re.fullmatch(r"RK\d{3}", error.attrib.get("type", ""))
    assert POSITIONED.search(error.text or ""), error.text
    assert f"{scenarios / 'broken.scenario.yaml'}:4:1: error[RK" in (error.text or "")


def test_an_invalid_scenario_is_an_error_named_by_its_scenario(scenarios: Path,
                                                               tmp_path: Path) -> None:
    bad = scenarios / "bad-event.scenario.yaml"
    text = (scenarios / "agent-site-owned-at-once.scenario.yaml").read_text()
    bad.write_text(text.replace("scenario: agent-site-lead-is-the-owners",
                                "scenario: bad-event-story")
                   .replace("events:", "events:\n  - {at: \"+1m\", nonsense: {}}", 1))
    report = tmp_path / "report.xml"
    code, _, _ = run("test", "--junit-xml", str(report), str(bad))
    assert code == 1
    root = ET.parse(report).getroot()
    check_shape(root)
    case = root.find("testsuite/testcase")
    assert case is not None
    assert case.attrib["name"] == "bad-event-story"
    error = case.find("error")
    assert error is not None and POSITIONED.search(error.text or "")


@pytest.mark.parametrize("where", ["missing-folder", "folder-itself", "file-as-folder"])
def test_an_unwritable_report_path_fails_before_any_scenario_runs(
        scenarios: Path, tmp_path: Path, where: str) -> None:
    (tmp_path / "plain-file").write_text("x")
    report = {"missing-folder": tmp_path / "nodir" / "x.xml",
              "folder-itself": tmp_path,
              "file-as-folder": tmp_path / "plain-file" / "x.xml"}[where]
    code, out, err = run("test", "--junit-xml", str(report), str(scenarios))
    assert code == 2
    assert out == ""  # no scenario ran
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"rulekit test: cannot write --junit-xml {report}: ")
    assert "bug" not in err


def test_pytest_items_are_named_by_their_scenario(scenarios: Path) -> None:
    folder = scenarios.parent
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "scenarios"], capture_output=True, text=True, check=False, cwd=folder)
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    assert "scenarios/agent-site-owned-at-once.scenario.yaml::agent-site-lead-is-the-owners" \
        in ids, collected.stdout
    assert "scenarios/friday-lead-crosses-weekend.scenario.yaml::" \
        "friday-lead-crosses-the-weekend" in ids
    # a file that cannot be read that far keeps its file name
    assert "scenarios/broken.scenario.yaml::broken.scenario.yaml" in ids
    assert len(ids) == len(list(scenarios.glob("*.scenario.yaml")))
    one = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "scenarios/friday-lead-crosses-weekend.scenario.yaml::friday-lead-crosses-the-weekend"],
        capture_output=True, text=True, check=False, cwd=folder)
    assert one.returncode == 0, one.stdout
    assert "1 passed" in one.stdout
