"""Scenario files for the contact lifecycle: the ``contact`` event (share, transfer, status…)
and the ``contact_status`` expectation, on the shipped Smith & Associates rules."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from rulekit.scenario import run_scenario
from rulekit.scenario.runner import Result

ROOT = Path(__file__).resolve().parents[2]
LEAD = ("  - lead: {id: S1, source: smith-agent-site, site_owner: a-riley-ellis, "
        "inquiry_type: Contact, contact: {email: s1@example.com}}\n")


def run(tmp_path: Path, body: str) -> Result:
    shutil.copytree(ROOT / "rules" / "smith", tmp_path / "smith")
    path = tmp_path / "smith" / "scenarios" / "t.scenario.yaml"
    path.write_text("rulekit: 1\nscenario: t\nrules: ..\n"
                    'start: "2026-12-01T10:00:00-05:00"\nevents:\n' + LEAD
                    + textwrap.dedent(body), encoding="utf-8")
    return run_scenario(path)


def test_routing_makes_the_contact_assigned_and_a_share_makes_it_shared(
        tmp_path: Path) -> None:
    result = run(tmp_path, """\
          - contact: {email: s1@example.com, action: share, agent: a-kai-morgan}
        expect:
          - contact_status: {email: s1@example.com, status: shared, owner: a-riley-ellis,
                             shared_with: [a-kai-morgan]}
        """)
    assert result.ok, [c.detail for c in result.checks if not c.ok] + [
        d.headline() for d in result.problems]
    assert [i.text for i in result.timeline if i.type == "contact"] == [
        "contact email:s1@example.com: share a-kai-morgan"]


def test_a_failed_contact_status_says_what_the_contact_is(tmp_path: Path) -> None:
    result = run(tmp_path, """\
        expect:
          - contact_status: {email: s1@example.com, status: pending, shared_with: [a-kai-morgan]}
          - contact_status: {email: nobody@example.com, status: assigned}
        """)
    assert not result.ok
    details = [c.detail for c in result.checks if not c.ok]
    assert any("but status assigned, shared_with []" in d for d in details), details
    assert any("but no such contact" in d for d in details), details


def test_an_action_the_contact_cannot_take_fails_the_scenario_with_its_reason(
        tmp_path: Path) -> None:
    result = run(tmp_path, """\
          - contact: {lead: S1, action: share, agent: a-riley-ellis}
        expect:
          - lead: S1
            assigned_to: a-riley-ellis
        """)
    assert not result.ok
    (problem,) = result.problems
    assert problem.code == "RK105" and problem.message.startswith("contact event: agent:")
    assert problem.location is not None and problem.location.line == 7


def test_a_resolved_conflict_shows_its_lead_reassigned_in_the_timeline() -> None:
    result = run_scenario(ROOT / "rules" / "leadstreet" / "scenarios"
                          / "manual-entry-conflict-resolved.scenario.yaml")
    assert result.ok
    (item,) = [i for i in result.timeline if i.type == "reassigned"]
    assert (item.lead, item.agent) == ("M2", "a-jordan-lee")
    assert item.text.startswith("assigned to a-jordan-lee: ownership conflict resolved")
