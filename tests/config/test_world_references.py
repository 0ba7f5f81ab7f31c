"""Names of the world that rule files use: pool members, offices and teams, notification
recipients and literal agent ids of `offer`/`assign` targets are checked against the world of
the folder (RK313), each with its position and a "did you mean"; a folder of rules without a
world gets one warning that they could not be (RK314)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from rulekit.config.project import check_paths
from rulekit.errors import Diagnostic, RulekitErrors
from rulekit.rules_folder import load_rules

WORLD = """\
rulekit: 1
world: w
offices:
  - {id: rmx-ballantyne}
  - {id: rmx-concord}
teams:
  - {id: eteam, members: [a-jordan-lee]}
agents:
  - {id: a-jordan-lee, offices: [rmx-ballantyne]}
  - {id: a-sam-park, email: sam.park@example.com, offices: [rmx-concord]}
"""

RULES = """\
rulekit: 1
policy: p
applies_to: {sources: [web]}
pools:
  rotation:
    of: agents
    members: [a-jordan-le, a-sam-park]
    offices: [rmx-balantyne, lead.office]
    teams: [eteem]
  branches:
    of: offices
    members: [rmx-concrd]
rules:
  - name: listing
    when: lead.source == "x"
    steps:
      - offer: {to: '"a-jordan-lee"', for: 30m}
      - offer: {to: 'coalesce(lead.branding_agent, "a-sam-prk")', for: 30m}
    then: continue
  - name: offices
    when: lead.source == "y"
    steps:
      - pick_office: {pool: branches}
    then: continue
  - name: entered
    when: lead.source == "z"
    steps:
      - assign: '"a-jordn-lee"'
  - name: rotation
    steps:
      - round_robin:
          pool: rotation
          notify: {template: t, to: [assignee, a-sam-park], cc: [boss@example.com, a-sam-pak]}
      - queue: manual
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(diags: list[Diagnostic], code: str = "RK313") -> list[tuple[int, int, str, str]]:
    return [(d.location.line, d.location.column, d.message, d.hint or "")
            for d in diags if d.code == code and d.location is not None]


def test_every_unknown_world_name_is_reported_with_its_position(tmp_path: Path) -> None:
    write(tmp_path, "world.yaml", WORLD)
    write(tmp_path, "rules.yaml", RULES)
    result = check_paths([tmp_path])
    assert not result.ok
    assert problems(result.diagnostics) == [
        (7, 15, "agent or team 'a-jordan-le' is not in the world",
         "did you mean 'a-jordan-lee'?"),
        (8, 15, "office 'rmx-balantyne' is not in the world", "did you mean 'rmx-ballantyne'?"),
        (9, 13, "team 'eteem' is not in the world", "did you mean 'eteam'?"),
        (12, 15, "office 'rmx-concrd' is not in the world", "did you mean 'rmx-concord'?"),
        (18, 52, "agent 'a-sam-prk' is not in the world", "did you mean 'a-sam-park'?"),
        (28, 18, "agent 'a-jordn-lee' is not in the world", "did you mean 'a-jordan-lee'?"),
        (33, 84, "recipient 'a-sam-pak' is not in the world: it is not a role, an agent or "
         "staff id, an email address or an https URL", "did you mean 'a-sam-park'?"),
    ]
    assert all(d.location is not None and d.location.path.endswith("rules.yaml")
               for d in result.diagnostics if d.code == "RK313")
    assert str(tmp_path) not in result.rulesets


def test_load_rules_refuses_a_typo_d_member(tmp_path: Path) -> None:
    write(tmp_path, "world.yaml", WORLD)
    write(tmp_path, "rules.yaml", RULES)
    with pytest.raises(RulekitErrors) as raised:
        load_rules(tmp_path)
    assert any(d.code == "RK313" for d in raised.value.diagnostics)


def test_known_names_pass(tmp_path: Path) -> None:
    write(tmp_path, "world.yaml", WORLD)
    fixed = (RULES.replace("a-jordan-le,", "a-jordan-lee,")
             .replace("rmx-balantyne", "rmx-ballantyne").replace("eteem", "eteam")
             .replace("rmx-concrd", "rmx-concord")
             .replace("a-sam-prk", "a-sam-park").replace("a-jordn-lee", "a-jordan-lee")
             .replace("a-sam-pak", "a-sam-park"))
    write(tmp_path, "rules.yaml", fixed)
    result = check_paths([tmp_path])
    assert problems(result.diagnostics) == []
    assert result.ok, [d.headline() for d in result.diagnostics]


def test_the_world_of_a_parent_folder_is_the_world_of_its_rule_folders(tmp_path: Path) -> None:
    write(tmp_path, "world.yaml", WORLD)
    write(tmp_path / "strategy", "rules.yaml", RULES)
    result = check_paths([tmp_path])
    assert len(problems(result.diagnostics)) == 7


def test_a_world_named_on_its_own_is_the_world_of_the_rules(tmp_path: Path) -> None:
    world = write(tmp_path / "worlds", "prod.yaml", WORLD)
    rules = tmp_path / "rules"
    write(rules, "rules.yaml", RULES)
    result = check_paths([rules, world])
    assert len(problems(result.diagnostics)) == 7


def test_a_world_beside_other_rules_is_not_borrowed(tmp_path: Path) -> None:
    write(tmp_path / "a", "world.yaml", WORLD)
    write(tmp_path / "a", "ok.yaml", "rulekit: 1\npolicy: ok\napplies_to: {sources: [web]}\n"
          "rules:\n  - name: all\n    steps: [{queue: manual}]\n")
    write(tmp_path / "b", "rules.yaml", RULES)
    result = check_paths([tmp_path / "a" / "world.yaml", tmp_path / "a" / "ok.yaml",
                          tmp_path / "b" / "rules.yaml"])
    assert problems(result.diagnostics) == []


def test_a_folder_without_a_world_gets_one_warning(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write(rules, "rules.yaml", RULES)
    write(rules, "more.yaml", RULES.replace("policy: p", "policy: q").replace("rotation", "rot2")
          .replace("branches", "branches2"))
    result = check_paths([rules])
    assert problems(result.diagnostics) == []
    found = [d for d in result.diagnostics if d.code == "RK314"]
    assert [(d.severity, d.location.path if d.location else None) for d in found] == [
        ("warning", str(rules / "more.yaml"))]
    assert "not checked" in found[0].message
    # a single file is checked on its own, without a word about its world
    single = check_paths([rules / "rules.yaml"])
    assert [d for d in single.diagnostics if d.code in ("RK313", "RK314")] == []


def test_hints_are_bounded(tmp_path: Path) -> None:
    agents = "\n".join(f"  - {{id: agent-{i:04d}}}" for i in range(2000))
    write(tmp_path, "world.yaml", f"rulekit: 1\nworld: w\nagents:\n{agents}\n")
    members = ", ".join(f"agent-{i:04d}x" for i in range(300))
    write(tmp_path, "rules.yaml", "rulekit: 1\npolicy: p\napplies_to: {sources: [web]}\n"
          f"pools:\n  big: {{of: agents, members: [{members}]}}\n"
          "rules:\n  - name: all\n    steps:\n      - round_robin: {pool: big}\n"
          "      - queue: manual\n")
    result = check_paths([tmp_path])
    found = problems(result.diagnostics)
    assert len(found) == 300
    assert 0 < sum(1 for *_, hint in found if hint) <= 20


def test_an_unquoted_agent_id_is_one_problem_with_a_hint(tmp_path: Path) -> None:
    write(tmp_path, "world.yaml", WORLD)
    write(tmp_path, "rules.yaml", RULES.replace("""to: '"a-jordan-lee"'""", 'to: "a-jordan-lee"')
          .replace("""assign: '"a-jordn-lee"'""", "assign: a-jordan-lee"))
    found = [(d.location.line, d.location.column, d.message, d.hint)
             for d in check_paths([tmp_path]).diagnostics
             if d.code == "RK202" and d.location is not None]
    assert found == [
        (17, 21, "unknown name 'a-jordan-lee'",
         """an id is text: quote it inside the YAML value: to: '"a-jordan-lee"'"""),
        (28, 17, "unknown name 'a-jordan-lee'",
         """an id is text: quote it inside the YAML value: assign: '"a-jordan-lee"'"""),
    ]
