"""A file that fails to load or to match its schema is reported once: the files of its folder
that refer to what it defines (a policy, a pool, a calendar) are not told that it is undefined."""

from __future__ import annotations

from pathlib import Path

from rulekit.config.project import check_paths

HANDS_OFF = """\
rulekit: 1
policy: b
applies_to: {sources: [web]}
rules:
  - name: morning
    when: is_open("office-hours")
    steps:
      - hold: {until_open: office-hours}
      - round_robin: {pool: shared}
    then: continue
  - name: hand-off
    steps:
      - use_policy: a
"""

SCHEMA_ERROR = """\
rulekit: 1
policy: a
applies_to: {sources: [portal]}
calendars:
  office-hours:
    timezone: America/New_York
    hours: {mon-fri: "09:00-17:00"}
pools:
  shared: {of: agents}
  spare: {of: agents}
rules:
  - name: all
    stepz: [{queue: manual}]
"""


def codes_by_file(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for d in check_paths([folder]).diagnostics:
        name = Path(d.location.path).name if d.location else ""
        found.setdefault(name, []).append(d.code)
    return found


def test_a_schema_error_is_not_repeated_as_undefined_names(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SCHEMA_ERROR, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(HANDS_OFF, encoding="utf-8")
    assert codes_by_file(tmp_path) == {"a.yaml": ["RK101", "RK102"]}


def test_a_file_that_does_not_load_hides_no_real_problem_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("rulekit: 1\npolicy: a\nrules: [\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(HANDS_OFF, encoding="utf-8")
    result = check_paths([tmp_path])
    assert [(Path(d.location.path).name, d.code) for d in result.diagnostics
            if d.location] == [("a.yaml", "RK001")]
    assert str(tmp_path) not in result.rulesets


def test_other_names_are_still_checked(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SCHEMA_ERROR, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(HANDS_OFF.replace("use_policy: a", "use_policy: c")
                                     .replace("pool: shared", "pool: sharde"),
                                     encoding="utf-8")
    found = codes_by_file(tmp_path)
    assert found["b.yaml"] == ["RK301", "RK303"]


WORLD = """\
rulekit: 1
world: w
calendars:
  evenings:
    timezone: America/New_York
    hours: {daily: "17:00-22:00"}
agents:
  - {id: a-ann, offices: [o-nowhere]}
"""

USES_WORLD = """\
rulekit: 1
policy: p
applies_to: {sources: [web]}
pools:
  evening: {of: agents, calendar: evenings, members: [a-ann]}
rules:
  - name: evening
    when: is_open("evenings")
    steps:
      - round_robin: {pool: evening}
      - queue: manual
  - name: daytime
    steps: [{queue: manual}]
"""


def test_a_world_that_does_not_build_still_names_its_calendars(tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text(WORLD, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(USES_WORLD, encoding="utf-8")
    assert codes_by_file(tmp_path) == {"world.yaml": ["RK310"]}


def test_a_world_with_a_schema_error_hides_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "world.yaml").write_text(WORLD.replace("agents:", "agentz:"), encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(USES_WORLD, encoding="utf-8")
    assert codes_by_file(tmp_path) == {"world.yaml": ["RK102"]}
