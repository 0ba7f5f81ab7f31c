"""Teams as rotation members are checked: a member id must be an agent or a team of the world
(RK313); a team in a rotation needs members, and a lead when the pool gives a team's turns to
its lead; a team's lead must be an agent and one of its members (RK316)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from rulekit.config.project import check_paths
from rulekit.errors import Diagnostic

WORLD = """\
rulekit: 1
world: w
teams:
  - {id: eteam, name: eTeam, members: [a-eli], lead: a-eli}
  - {id: lteam, name: Lake team}
  - {id: empty, name: Nobody yet}
agents:
  - {id: a-ann}
  - {id: a-eli}
  - {id: a-lou, teams: [lteam]}
"""

RULES = """\
rulekit: 1
policy: p
applies_to: {sources: [web]}
pools:
  rotation:
    of: agents
    members: [a-ann, MEMBER]
    team_pick: PICK
rules:
  - name: rotation
    steps:
      - round_robin: {pool: rotation}
      - queue: manual
"""


def check(folder: Path, member: str, pick: str = "rotate",
          world: str = WORLD) -> list[tuple[str, int, int, str, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "world.yaml").write_text(textwrap.dedent(world), encoding="utf-8")
    (folder / "rules.yaml").write_text(RULES.replace("MEMBER", member).replace("PICK", pick),
                                       encoding="utf-8")
    result = check_paths([folder])
    found: list[Diagnostic] = [d for d in result.diagnostics if d.severity == "error"]
    return [(d.code, d.location.line, d.location.column, d.message, d.hint or "")
            for d in found if d.location is not None]


def test_a_team_of_the_world_is_a_known_member(tmp_path: Path) -> None:
    """Before teams took turns, a team id among the members was reported as an unknown
    agent (RK313)."""
    assert check(tmp_path, "eteam") == []
    assert check(tmp_path, "lteam") == []  # a team its agents name


def test_an_unknown_member_is_reported_where_it_is(tmp_path: Path) -> None:
    assert check(tmp_path, "eteem") == [
        ("RK313", 7, 22, "agent or team 'eteem' is not in the world",
         "did you mean 'eteam'?")]


def test_a_team_with_no_members_cannot_take_a_turn(tmp_path: Path) -> None:
    assert check(tmp_path, "empty") == [
        ("RK316", 7, 22, "team 'empty' has no members: it cannot take a turn in pool "
         "'rotation'", "give 'empty' members in the world, or take it out of the pool")]


def test_the_lead_rule_needs_a_team_with_a_lead(tmp_path: Path) -> None:
    assert check(tmp_path, "eteam", "lead") == []
    assert check(tmp_path, "lteam", "lead") == [
        ("RK316", 7, 22, "team 'lteam' has no lead: pool 'rotation' gives a team's turn to "
         "its lead (team_pick: lead)", "give 'lteam' a lead in the world, or use "
         "'team_pick: rotate'")]


def test_an_unknown_team_pick_is_a_schema_error(tmp_path: Path) -> None:
    found = check(tmp_path, "eteam", "leader")
    assert [(code, line) for code, line, *_ in found] == [("RK104", 8)]


def test_a_lead_who_is_not_a_member_is_reported_in_the_world(tmp_path: Path) -> None:
    world = WORLD.replace("{id: lteam, name: Lake team}", "{id: lteam, lead: a-ann}")
    assert check(tmp_path, "a-lou", world=world) == [
        ("RK316", 5, 23, "lead 'a-ann' of team 'lteam' is not one of its members",
         "add 'a-ann' to the team's members, or name one of them as its lead")]


def test_a_lead_who_is_not_an_agent_is_reported_in_the_world(tmp_path: Path) -> None:
    world = WORLD.replace("lead: a-eli", "lead: a-elli")
    assert check(tmp_path, "a-lou", world=world) == [
        ("RK316", 4, 54, "lead 'a-elli' of team 'eteam' is not an agent of this world",
         "did you mean 'a-eli'?")]
