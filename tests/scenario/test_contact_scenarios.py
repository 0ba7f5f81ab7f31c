"""Scenario files for first-contact SLAs: the ``activity`` event (by default from the lead's
assignee), and the ``contact``, ``contact_missed`` and ``paused`` expectations, which say what
happened instead when they fail."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from rulekit.scenario import run_scenario
from rulekit.scenario.runner import Result

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, body: str) -> Result:
    """A scenario of the shipped ProspectConverter accountability folder."""
    shutil.copytree(ROOT / "rules" / "prospectconverter", tmp_path / "prospectconverter")
    path = tmp_path / "prospectconverter" / "accountability" / "scenarios" / "t.scenario.yaml"
    path.write_text("rulekit: 1\nscenario: t\nrules: ..\nworld: ../../world.yaml\n"
                    'start: "2026-12-01T10:00:00-05:00"\n' + textwrap.dedent(body),
                    encoding="utf-8")
    return run_scenario(path)


def failures(result: Result) -> list[str]:
    return [d.headline() for d in result.problems] + [
        f"{c.text}: {c.detail.splitlines()[0]}" for c in result.checks if not c.ok]


def test_an_activity_defaults_to_the_assignee_and_meets_the_sla(tmp_path: Path) -> None:
    result = run(tmp_path, """\
        events:
          - lead: {id: A1, source: portal, contact: {email: a1@example.com}}
          - at: "+5m"
            activity: {lead: A1}
        expect:
          - lead: A1
            contact: met
            contact_missed: []
          - paused: []
        """)
    assert result.ok, failures(result)
    assert [item.type for item in result.timeline if item.lead == "A1"][-1] == "activity"


def test_failed_contact_expectations_say_what_happened(tmp_path: Path) -> None:
    result = run(tmp_path, """\
        events:
          - lead: {id: A1, source: portal, contact: {email: a1@example.com}}
          - advance: 31m
        expect:
          - lead: A1
            contact: met
          - lead: A1
            contact_missed: [a-gray-patel]
          - paused: [a-avery-jones]
        """)
    assert not result.ok
    assert failures(result) == [
        "A1: first contact met: expected first contact met, but first contact missed",
        "A1: first contact missed by ['a-gray-patel']: expected first contact missed by "
        "['a-gray-patel'], but missed by ['a-avery-jones']",
        "paused ['a-avery-jones']: expected paused ['a-avery-jones'], but paused: []; "
        "not paused: ['a-avery-jones']",
    ]


def test_an_activity_from_another_agent_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, """\
        events:
          - lead: {id: A1, source: portal, contact: {email: a1@example.com}}
          - at: "+5m"
            activity: {lead: A1, agent: a-gray-patel, kind: text}
        expect:
          - lead: A1
            contact: waiting
            refused: {agent: a-gray-patel, answer: activity, reason: "not assigned to this agent"}
        """)
    assert result.ok, failures(result)
