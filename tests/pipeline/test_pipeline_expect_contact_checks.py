"""expect_contact validates like every other step: its duration and calendar, where it may
stand, whether a missed contact can leave the lead unrouted (RK312), and the steps of its
``else``, checked as any steps are."""

from __future__ import annotations

from pathlib import Path

from pipeline_helpers import OFFICE_HOURS, write_folder

from rulekit.config.project import check_paths
from rulekit.errors import Diagnostic


def problems(tmp_path: Path, steps: str, *, then: str = "stop",
             head: str = "") -> list[Diagnostic]:
    text = f"""
policy: sla
applies_to: {{sources: [test-site]}}
{head}
pools:
  team: {{of: agents, members: [a-ann, a-bob]}}
rules:
  - name: direct
    steps:
{steps}
    then: {then}
  - name: desk
    steps: [{{queue: desk}}]
"""
    folder = write_folder(tmp_path / "rules", {"policy": text})
    return [d for d in check_paths([folder]).diagnostics if d.severity == "error"]


def shown(found: list[Diagnostic]) -> list[str]:
    return [f"{d.location.line}:{d.location.column} {d.code} {d.message}"
            for d in found if d.location is not None]


def test_an_sla_whose_miss_routes_the_lead_is_valid(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact:
          within: 30 business_minutes
          calendar: office-hours
          pause_after: 3
          else:
            - notify: {template: contact-missed, to: [boss@example.com]}
            - queue: late-contact""", head=OFFICE_HOURS) == []


def test_a_missing_else_that_cannot_route_the_lead_is_rk312(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact: {within: 30m}""")
    assert shown(found) == [
        "8:11 RK312 a lead can leave rule 'direct' unrouted: when its assignee misses the "
        "first contact, the expect_contact 'else' steps can end without an owner, a queue or "
        "a drop"]
    # going on with the next rule routes a missed lead: valid
    assert problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact: {within: 30m}""", then="continue") == []


def test_an_else_that_can_pass_is_rk312(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact:
          within: 30m
          else:
            - notify: {template: contact-missed, to: [boss@example.com]}
            - offer_sequence: {pool: team, attempts: 1, each_for: 30m}""")
    assert [d.code for d in found] == ["RK312"]
    assert "expect_contact 'else'" in found[0].message


def test_a_bad_duration_is_reported_at_its_place(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact: {within: 2 fortnights, else: [{queue: desk}]}""")
    assert shown(found) == ["11:34 RK207 invalid duration '2 fortnights'"]
    assert str(found[0].location).endswith("policy.yaml:11:34")


def test_schema_errors_name_the_field(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact: {for: 30m, pause_after: 0}""")
    messages = shown(found)
    assert any("RK101" in m and "'within'" in m for m in messages), messages
    assert any(m.startswith("11:49 RK105") and "pause_after" in m for m in messages), messages
    assert any("RK102" in m and "'for'" in m for m in messages), messages


def test_a_business_duration_needs_a_calendar(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact: {within: 30 business_minutes, else: [{queue: desk}]}""")
    assert shown(found) == ["11:34 RK302 business duration '30 business_minutes' needs a "
                            "calendar"]


def test_expect_contact_must_follow_an_assigning_step(tmp_path: Path) -> None:
    for steps, where in (("""\
      - expect_contact: {within: 30m}
      - queue: desk""", "first in its steps"), ("""\
      - notify: {template: contact-missed, to: [boss@example.com]}
      - expect_contact: {within: 30m}
      - queue: desk""", "after 'notify'")):
        found = problems(tmp_path, steps)
        assert [d.code for d in found] == ["RK105"], shown(found)
        assert found[0].message.startswith(f"expect_contact {where} has no assignee")


def test_the_else_steps_are_checked_like_any_steps(tmp_path: Path) -> None:
    found = problems(tmp_path, """\
      - assign: '"a-ann"'
      - expect_contact:
          within: 30m
          else:
            - offer_sequence: {pool: teem, each_for: 30m}
            - assign: '"a-nobody"'""")
    codes = {d.code for d in found}
    assert "RK301" in codes  # the undefined pool, inside else
    assert "RK313" in codes  # the agent the world does not have, inside else
