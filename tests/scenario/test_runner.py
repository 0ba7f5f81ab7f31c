"""The scenario runner and `rulekit test`: failures explain themselves; invalid rules fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from command_line import run

from rulekit.cli.main import main
from rulekit.scenario import run_scenario

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def leadstreet(tmp_path: Path) -> Path:
    folder = tmp_path / "leadstreet"
    shutil.copytree(ROOT / "rules" / "leadstreet", folder)
    return folder


def test_a_wrong_expectation_fails_and_points_at_the_cause(leadstreet: Path) -> None:
    scenario = leadstreet / "scenarios" / "listing-inquiry.scenario.yaml"
    text = scenario.read_text().replace("assigned_to: a-jordan-lee", "assigned_to: a-kai-morgan")
    scenario.write_text(text)
    result = run_scenario(scenario)
    assert not result.ok
    (failed,) = [c for c in result.checks if not c.ok]
    assert "expected assigned to a-kai-morgan, but assigned to a-jordan-lee" in failed.detail
    # the trace excerpt shows which rule decided and why
    assert "Rule 'listing-inquiry'" in failed.detail
    assert "listing.listing_agent = \"a-jordan-lee\"" in failed.detail
    assert failed.location is not None and failed.location.line > 1
    code, out = run("test", str(scenario))
    assert code == 1
    assert out.splitlines()[-1] == "0 passed, 1 failed"
    assert "✗" in out and "| " in out


def test_invalid_rules_fail_the_scenario(leadstreet: Path) -> None:
    policy = leadstreet / "charlotteproperty.yaml"
    policy.write_text(policy.read_text().replace("pool: all-agents", "pool: all-agentz", 1))
    result = run_scenario(leadstreet / "scenarios" / "three-offers-then-last-chance.scenario.yaml")
    assert not result.ok
    assert [d.code for d in result.problems] == ["RK301"]
    assert result.problems[0].hint == "did you mean 'all-agents'?"


def test_junit_xml(leadstreet: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    code, _ = run("test", "--junit-xml", str(report), str(leadstreet / "scenarios"))
    assert code == 0
    suite = ET.parse(report).getroot()
    assert suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) == len(list((leadstreet / "scenarios").glob("*.yaml")))


def test_simulate_json_lines(leadstreet: Path) -> None:
    import json

    code, out = run("simulate", "--format", "json",
                    str(leadstreet / "scenarios" / "three-offers-then-last-chance.scenario.yaml"))
    assert code == 0
    items = [json.loads(line) for line in out.splitlines()]
    assert {"at", "type", "lead", "agent", "offer", "rule"} <= set(items[0])
    kinds = [i["type"] for i in items]
    assert kinds.count("offer") == 3 and kinds.count("broadcast") == 1
    assert kinds.count("rejected") == 1


def test_route_explains_one_lead(tmp_path: Path) -> None:
    lead = tmp_path / "lead.json"
    lead.write_text('{"id": "R1", "received_at": "2026-12-01T10:00:00-05:00", '
                    '"source": "remax.com", "inquiry_type": "listing", '
                    '"property": {"listing_id": "CMLS-4021977"}}')
    code, out = run("route", "--rules", "rules/leadstreet", "--world",
                    "rules/leadstreet/world.yaml", str(lead))
    assert code == 0
    assert out.startswith("Decision: assigned to a-jordan-lee")
    assert "Rule 'listing-inquiry'" in out


def test_pytest_plugin_collects_scenarios(leadstreet: Path) -> None:
    scenario = leadstreet / "scenarios" / "agent-site-owned-at-once.scenario.yaml"
    good = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(scenario)], capture_output=True, text=True, check=False,
                          cwd=leadstreet)
    assert good.returncode == 0, good.stdout
    assert "1 passed" in good.stdout
    scenario.write_text(scenario.read_text().replace("how: assigned", "how: accepted"))
    bad = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(scenario)], capture_output=True, text=True, check=False,
                         cwd=leadstreet)
    assert bad.returncode == 1
    assert "expected assigned by accepted, but assigned by assigned" in bad.stdout


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ('{at: "+1m", reassign: {lead: NOPE, agent: a-jordan-lee}}',
         "unknown lead or agent 'NOPE'"),
        ('{at: "+1m", pool: {name: no-such-pool, add: [a-jordan-lee]}}', "unknown pool"),
        ('{at: "+1m", agent: {id: a-nobody, paused: true}}', "unknown agent 'a-nobody'"),
        ('{at: "+1m", policy: {name: nope, enabled: false}}', "unknown policy 'nope'"),
    ],
)
def test_events_naming_unknown_things_are_positioned_problems(
        leadstreet: Path, event: str, message: str) -> None:
    scenario = leadstreet / "scenarios" / "bad.scenario.yaml"
    scenario.write_text(
        "rulekit: 1\nscenario: bad\nrules: ..\nstart: '2026-12-01T10:00:00-05:00'\n"
        "events:\n  - lead: {id: L1, source: remax.com}\n  - " + event + "\n"
        "expect:\n  - {lead: L1, status: assigned}\n")
    result = run_scenario(scenario)
    assert not result.ok
    (problem,) = result.problems
    assert message in problem.message
    assert problem.location is not None and problem.location.line == 7


def test_invalid_lead_payload_is_positioned(leadstreet: Path) -> None:
    scenario = leadstreet / "scenarios" / "bad.scenario.yaml"
    scenario.write_text(
        "rulekit: 1\nscenario: bad\nrules: ..\nstart: '2026-12-01T10:00:00-05:00'\n"
        "events:\n  - lead: {id: B1, source: remax.com, activity: sometimes}\n"
        "expect:\n  - {lead: B1, status: assigned}\n")
    code, out = run("test", str(scenario))
    assert code == 1
    assert "bad.scenario.yaml:6:49: error[RK105]: lead activity: input should be" in out


def test_simulate_explains_a_lead_of_a_scenario_kept_in_sqlite(
        capsys: pytest.CaptureFixture[str]) -> None:
    scenario = (Path(__file__).resolve().parents[2] / "rules" / "leadstreet" / "scenarios"
                / "friday-lead-crosses-weekend.scenario.yaml")
    assert "store: sqlite" in scenario.read_text(encoding="utf-8")
    assert main(["simulate", str(scenario), "--explain", "F1"]) == 0
    out = capsys.readouterr().out
    assert "Lead F1 (ruleset" in out and "Broadcast to 23 agents" in out
