"""``rulekit validate`` (and the scenario commands) on files with characters YAML refuses:
exit 1 with a positioned RK008, never an internal error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from command_line import run

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = {
    "rule file": ROOT / "rules" / "homesconnect" / "remax-brand-sources.yaml",
    "world file": ROOT / "rules" / "homesconnect" / "world.yaml",
    "scenario file": ROOT / "rules" / "homesconnect" / "scenarios"
    / "agent-branding.scenario.yaml",
}
BAD = {"SOH": "\x01", "ESC": "\x1b", "U+FFFE": "\ufffe", "U+FFFF": "\uffff", "NUL": "\x00",
       "C1": "\x92", "mid-file BOM": "\ufeff"}




def spoiled(kind: str, char: str, folder: Path) -> tuple[Path, int, int]:
    """A copy of a shipped file with ``char`` put in the middle of its fourth line."""
    source = SHIPPED[kind]
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    column = len(lines[3]) // 2
    lines[3] = lines[3][:column] + char + lines[3][column:]
    target = folder / source.name
    target.write_text("".join(lines), encoding="utf-8")
    return target, 4, column + 1


@pytest.mark.parametrize("kind", sorted(SHIPPED))
@pytest.mark.parametrize("name", sorted(BAD))
def test_validate_reports_the_character_at_its_position(kind: str, name: str,
                                                       tmp_path: Path) -> None:
    path, line, column = spoiled(kind, BAD[name], tmp_path)
    code, out = run("validate", str(path))
    assert code == 1, out
    assert "internal error" not in out
    assert out.startswith(f"{path}:{line}:{column}: error[RK008]: "), out


def test_scenario_commands_report_the_character(tmp_path: Path) -> None:
    folder = tmp_path / "homesconnect"
    shutil.copytree(ROOT / "rules" / "homesconnect", folder)
    scenario = folder / "scenarios" / "agent-branding.scenario.yaml"
    text = scenario.read_text(encoding="utf-8")
    scenario.write_text(text.replace("agent-branding-wins", "agent-\x1bbranding"),
                        encoding="utf-8")
    for command in ("simulate", "test"):
        code, out = run(command, str(scenario))
        assert code == 1, out
        assert "internal error" not in out
        assert "error[RK008]" in out
        assert f"{scenario}:3:" in out


def test_a_world_with_a_control_character_next_to_valid_rules(tmp_path: Path) -> None:
    folder = tmp_path / "homesconnect"
    shutil.copytree(ROOT / "rules" / "homesconnect", folder)
    world = folder / "world.yaml"
    world.write_text(world.read_text(encoding="utf-8").replace("Avery Jones", "Avery\x7fJones"),
                     encoding="utf-8")
    code, out = run("validate", str(folder))
    assert code == 1
    assert f"{world}:" in out and "error[RK008]" in out and "U+007F" in out
